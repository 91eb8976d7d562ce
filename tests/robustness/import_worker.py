"""Run command-line imports one after another for a fuzzing test, in a process of its own.

    python tests/robustness/import_worker.py MEMORY_BYTES

caps its address space at MEMORY_BYTES, then reads one JSON list of arguments per line
on standard input (``["import", "inv.aicl", "file.xlsx"]``), runs ``core.cli.main`` on
them and answers one JSON line: ``{"code": exit code, "out": ..., "err": ...}``, or
``{"exception": traceback}`` when the command let an exception out. A crash (a signal,
an aborted allocation) ends the process: the test sees its exit status and the case
that caused it, and starts a new worker; the test runner itself is never at risk.
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from core import cli
    from core.importing.reading import clear_sheet_cache

    for line in sys.stdin:
        argv = json.loads(line)
        out, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stderr(err):
                try:
                    code = cli.main(argv, out=out)
                except SystemExit as exc:  # argparse: usage errors exit 2 with a message
                    code = exc.code
            answer = {"code": code, "out": out.getvalue()[-4000:], "err": err.getvalue()[-4000:]}
        except Exception:
            answer = {"exception": traceback.format_exc()[-8000:]}
        finally:
            clear_sheet_cache()
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
