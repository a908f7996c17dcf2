"""Downloads of what a dashboard shows: CSV (one table) and XLSX (every table of the page, one sheet each).

The rows are those the page computed for the viewer's scope (``filters.resolve``): an export never reads more than
the page does. Text cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, carriage
return first) are prefixed with an apostrophe (OWASP's CSV injection advice): an account named ``=HYPERLINK(…)``
stays text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from django.http import HttpResponse, StreamingHttpResponse

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value):
    """A value safe to put in a spreadsheet cell: None as empty, formula-looking text defused."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _lines(columns: Sequence[str], rows: Iterable[dict]):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(c)) for c in columns])
        if buffer.tell() > 32_768:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_response(name: str, columns: Sequence[str], rows: Iterable[dict]) -> StreamingHttpResponse:
    """``rows`` as a streamed CSV download (``rows`` may be a generator: nothing is held whole)."""
    response = StreamingHttpResponse(_lines(columns, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def xlsx_response(name: str, sheets: Sequence[tuple[str, Sequence[str], Iterable[dict]]]) -> HttpResponse:
    """One workbook with a sheet per ``(title, columns, rows)`` (openpyxl's write-only mode: rows are written as
    they come)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for title, columns, rows in sheets:
        sheet = book.create_sheet(title=title[:31])
        sheet.append(list(columns))
        for row in rows:
            sheet.append([cell(row.get(c)) for c in columns])
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response
