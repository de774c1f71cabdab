"""CSV and XLSX files for exports (survey responses, statistics): one writer for both, so every
export neutralizes text cells against formula injection (`spreadsheet_cell`) and writes numbers as
numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from bot.services.audience import spreadsheet_cell

if TYPE_CHECKING:
    from openpyxl import Workbook

Row = Sequence[Any]


def text(value: Any) -> str:
    """A text cell (openpyxl stores a string starting with "=" as a formula: never let one through)."""
    return spreadsheet_cell(str(value))


def number(value: str) -> int | float | str:
    """A CSV cell as a number when it is one, else as text."""
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        return text(value)


def cell(value: Any) -> Any:
    """A value for either file: numbers stay numbers, everything else is neutralized text."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else text(value)


def csv_bytes(rows: Iterable[Row]) -> bytes:
    """The rows as CSV, UTF-8 with a BOM (Excel then reads the accents and scripts right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def csv_rows(data: bytes) -> list[list[str]]:
    """A CSV export read back (its cells as the text they were written as)."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def add_sheet(
    workbook: Workbook,
    title: str,
    rows: Iterable[Row],
    numeric: Callable[[int, int], bool] | None = None,
) -> Any:
    """A sheet of `rows`, the first one (the headings) bold. Cells already numbers stay numbers; a
    text cell becomes a number where `numeric(row, column)` says so (CSV text read back)."""
    sheet = workbook.create_sheet(text(title)[:31])
    for row_number, row in enumerate(rows):
        sheet.append(
            [
                number(value)
                if row_number and isinstance(value, str) and value and numeric and numeric(row_number, index)
                else cell(value)
                for index, value in enumerate(row)
            ]
        )
    for heading in sheet[1] if sheet.max_row else ():
        heading.font = _bold()
    return sheet


def _bold() -> Any:
    from openpyxl.styles import Font  # openpyxl is heavy: imported when a file is written

    return Font(bold=True)


def new_workbook() -> Workbook:
    """A workbook without its default empty sheet (`add_sheet` adds the real ones)."""
    from openpyxl import Workbook

    workbook = Workbook()
    if workbook.active is not None:
        workbook.remove(workbook.active)
    return workbook


def workbook_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
