"""AI Carbon Ledger core: the inventory, its schema and the headless commands.

Pure Python, numpy and sqlite-utils. Nothing here imports Qt, pyqtgraph or ``ui``.
"""

__version__ = "0.1.0"
APP_NAME = "AI Carbon Ledger"
ORG_NAME = "AI Carbon Ledger"
#: File extension of inventory files (ordinary SQLite files underneath).
INVENTORY_SUFFIX = ".aicl"
