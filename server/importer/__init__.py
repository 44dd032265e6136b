"""`dealergate import`: customers, vehicles, policies, claims and visits from the dealer system's
CSV / .xlsx exports, all-or-nothing per file, idempotent (see `kinds` for the keys)."""

from server.importer.kinds import KINDS
from server.importer.readers import FileProblem
from server.importer.run import ImportReport, RowError, import_file

__all__ = ["KINDS", "FileProblem", "ImportReport", "RowError", "import_file"]
