"""AI Carbon Ledger: composition root.

``python main.py [INVENTORY]`` opens the desktop app; ``python main.py COMMAND ...`` runs a
headless command (see ``--help``). Nothing else lives here.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def wants_cli(args: Sequence[str]) -> bool:
    """Whether ``args`` ask for a headless command (``core.cli.is_cli``); without
    arguments the app starts and the command line is not even imported."""
    if not args:
        return False
    from core import cli

    return cli.is_cli(args)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if wants_cli(args):
        from core import cli

        return cli.main(args)
    from ui.app import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
