"""AI Carbon Ledger: composition root.

``python main.py [INVENTORY]`` opens the desktop app; ``python main.py COMMAND ...`` runs a
headless command (see ``--help``). Nothing else lives here.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from core import cli

    if cli.is_cli(args):
        return cli.main(args)
    from ui.app import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
