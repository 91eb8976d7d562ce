"""AI Carbon Ledger desktop UI (PySide6). Builds on ``core``; never the reverse."""
