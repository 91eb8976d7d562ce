#!/bin/sh
# Install AI Carbon Ledger for the current user, without root.
#
#   ./install.sh            copy this folder to ~/.local/lib/ai-carbon-ledger, put
#                           ai-carbon-ledger on ~/.local/bin, add the menu entry, icons
#                           and the .aicl file type, and make the app open .aicl files
#   ./install.sh --in-place use this folder where it is instead of copying it
#
# Run it from the unpacked bundle. Your inventories are never touched; ./uninstall.sh
# (also copied to the install folder) takes everything out again.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
name=ai-carbon-ledger
mime=application/x-ai-carbon-ledger-inventory
data=${XDG_DATA_HOME:-$HOME/.local/share}
bindir=$HOME/.local/bin
target=$HOME/.local/lib/$name

in_place=0
for arg in "$@"; do
    case $arg in
        --in-place) in_place=1 ;;
        -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done

[ -x "$here/$name" ] || { echo "install.sh: run me from the unpacked $name folder" >&2; exit 1; }

if [ "$in_place" = 1 ]; then
    target=$here
elif [ "$here" != "$target" ]; then
    echo "Copying the app to $target"
    rm -rf "$target.new"
    mkdir -p "$(dirname "$target")"
    cp -a "$here" "$target.new"
    rm -rf "$target"
    mv "$target.new" "$target"
fi

mkdir -p "$bindir" "$data/applications" "$data/mime/packages"
ln -sf "$target/$name" "$bindir/$name"

# The menu entry runs this copy by its absolute path, quoted only if it must be (some
# launchers, xdg-open without a desktop among them, take the first word as it stands).
exec_path=$target/$name
case $exec_path in
    *[[:space:]\"\'\`\$\\\<\>\~\|\&\;\*\?\#\(\)]*)
        exec_path="\"$(printf '%s' "$exec_path" | sed 's/["`$\\]/\\\\&/g')\"" ;;
esac
for_sed() { printf '%s' "$1" | sed 's/[\\&|]/\\&/g'; }
sed -e "s|^Exec=.*|Exec=$(for_sed "$exec_path") %f|" \
    -e "s|^TryExec=.*|TryExec=$(for_sed "$target/$name")|" \
    "$target/share/applications/$name.desktop" > "$data/applications/$name.desktop"
cp "$target/share/mime/packages/$name.xml" "$data/mime/packages/$name.xml"
(cd "$target/share/icons" && find hicolor -type f) | while read -r icon; do
    mkdir -p "$data/icons/$(dirname "$icon")"
    cp "$target/share/icons/$icon" "$data/icons/$icon"
    case $icon in  # the same picture stands for inventory files in file managers
        */apps/*) mkdir -p "$data/icons/$(dirname "$(dirname "$icon")")/mimetypes"
                  cp "$target/share/icons/$icon" \
                     "$data/icons/$(dirname "$(dirname "$icon")")/mimetypes/$(echo "$mime" | tr / -).${icon##*.}" ;;
    esac
done

# Refresh the caches that desktops read; each tool is optional.
update-mime-database "$data/mime" 2>/dev/null || echo "note: update-mime-database not found (package shared-mime-info)"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t -f "$data/icons/hicolor" 2>/dev/null || true
if command -v xdg-mime >/dev/null; then
    xdg-mime default "$name.desktop" "$mime"
else  # what xdg-mime would write
    config=${XDG_CONFIG_HOME:-$HOME/.config}
    mkdir -p "$config"
    grep -q '^\[Default Applications\]' "$config/mimeapps.list" 2>/dev/null ||
        printf '[Default Applications]\n' >> "$config/mimeapps.list"
    sed -i "/^$(echo "$mime" | sed 's|/|\\/|')=/d; /^\[Default Applications\]/a $mime=$name.desktop" \
        "$config/mimeapps.list"
fi

echo "Installed AI Carbon Ledger $(sed -n 's/^X-AI-Carbon-Ledger-Version=//p' "$data/applications/$name.desktop") in $target"
case ":$PATH:" in
    *":$bindir:"*) ;;
    *) echo "note: $bindir is not on your PATH; the menu entry works regardless" ;;
esac
