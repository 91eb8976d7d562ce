#!/bin/sh
# Remove AI Carbon Ledger installed by install.sh for the current user (no root).
# Your inventories and settings are kept: they live in ~/.local/share/AI Carbon Ledger
# and ~/.config/AI Carbon Ledger, which this script does not touch.
set -eu

name=ai-carbon-ledger
mime=application/x-ai-carbon-ledger-inventory
data=${XDG_DATA_HOME:-$HOME/.local/share}
config=${XDG_CONFIG_HOME:-$HOME/.config}
bindir=$HOME/.local/bin

desktop=$data/applications/$name.desktop
target=""
if [ -f "$desktop" ]; then
    target=$(sed -n 's/^TryExec=//p' "$desktop")
    target=${target%/$name}
fi

rm -f "$desktop" "$data/mime/packages/$name.xml"
[ -L "$bindir/$name" ] && rm -f "$bindir/$name"
find "$data/icons/hicolor" \( -name "$name.png" -o -name "$name.svg" \
    -o -name "$(echo "$mime" | tr / -).*" \) -type f -delete 2>/dev/null || true
[ -f "$config/mimeapps.list" ] && sed -i "\|^$mime=|d" "$config/mimeapps.list"

update-mime-database "$data/mime" 2>/dev/null || true
command -v update-desktop-database >/dev/null && update-desktop-database -q "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t -f "$data/icons/hicolor" 2>/dev/null || true

# The app folder goes last, and only the one install.sh made under ~/.local/lib.
if [ "$target" = "$HOME/.local/lib/$name" ] && [ -d "$target" ]; then
    rm -rf "$target"
    echo "Removed $target"
fi
echo "AI Carbon Ledger is uninstalled; your inventories are where they were."
