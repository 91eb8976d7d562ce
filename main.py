"""AI Carbon Ledger: composition root.

``python main.py [INVENTORY]`` opens the desktop app; ``python main.py COMMAND ...`` runs a
headless command (see ``--help``); ``python main.py --selftest`` checks an installed app
end to end. Nothing else lives here.
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


def _write_report_pdf(report: object, path: str, paper: str) -> int:
    """``report --pdf``: the PDF is painted with Qt (offscreen), which core cannot import."""
    from ui.report_render import write_pdf_headless

    return write_pdf_headless(report, path, paper)  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--selftest"]:  # the installed app proves it works (ui.selftest)
        from ui.selftest import run as selftest

        return selftest(args[1:])
    if wants_cli(args):
        from core import cli

        return cli.main(args, pdf_writer=_write_report_pdf)
    from ui.app import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
