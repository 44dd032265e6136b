"""Rows out of a CSV or .xlsx file, each with the line number a person sees in Excel or an editor."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.importer.columns import field_for


class FileProblem(Exception):
    """The file as a whole cannot be read (format, encoding, no header): nothing is imported."""


@dataclass(frozen=True)
class SourceRow:
    line: int
    values: dict[str, Any]
    """Importer field → raw cell value (columns the importer does not know are left out)."""


def _decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030: what Excel on a Chinese Windows saves as CSV."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileProblem("文件编码无法识别（请另存为 UTF-8 CSV）/ unknown text encoding: save as UTF-8 CSV")


def _table(path: Path) -> Iterator[tuple[int, list[Any]]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        text = _decode(path.read_bytes())
        for n, cells in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            yield n, cells
    elif suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # zip / XML errors of a broken workbook
            raise FileProblem(f"无法读取 Excel 文件 / cannot read the workbook: {exc}") from exc
        try:
            for n, cells in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
                yield n, list(cells)
        finally:
            book.close()
    else:
        raise FileProblem(
            f"只支持 .csv 与 .xlsx / only .csv and .xlsx files are read, not {suffix or 'this'}"
        )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_rows(path: Path) -> tuple[list[str], list[SourceRow]]:
    """(fields found in the header, data rows).

    The header is the first row naming at least two known columns (else the first naming one):
    exports often carry a title or a date range above it, which is skipped.
    """
    table = [(line, cells) for line, cells in _table(path) if not all(_blank(c) for c in cells)]
    named = [[field_for(str(c)) if not _blank(c) else None for c in cells] for _, cells in table]
    known = [sum(f is not None for f in fields) for fields in named]
    at = next((i for i, k in enumerate(known) if k >= 2), next((i for i, k in enumerate(known) if k), None))
    if at is None:
        raise FileProblem("找不到表头（客户姓名、手机号、车牌号…）/ no header row with known column names")
    header = named[at]
    rows = [
        SourceRow(
            line, {f: c for f, c in zip(header, cells, strict=False) if f is not None and not _blank(c)}
        )
        for line, cells in table[at + 1 :]
    ]
    return [f for f in header if f is not None], rows
