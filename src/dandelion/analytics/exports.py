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

SERIES_COLUMNS = ("day", "inbound", "needs_reply", "answered", "response_rate", "frt_p50_s", "frt_p90_s",
                  "resolution_p50_s", "sla_met", "sla_breached", "sla_met_rate", "sentiment_positive",
                  "sentiment_neutral", "sentiment_negative", "hidden_spam", "hidden_abuse")
BREAKDOWN_COLUMNS = ("label", "inbound", "needs_reply", "answered", "response_rate", "frt_p50_s", "frt_p90_s",
                     "resolution_p50_s", "sla_met_rate", "negative_share", "hidden")
PUBLISHED_COLUMNS = ("label", "posts", "links", "clicks", "clicks_per_post")
HEADLINE_COLUMNS = ("name", "value", "previous", "delta", "change")
LEADERBOARD_COLUMNS = ("peer_group", "rank", "account", "unit", "followers", "inbound", "response_rate",
                       "frt_p50_s", "frt_mean_s", "trend", "very_responsive")


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


def xlsx_bytes(sheets: Sequence[tuple[str, Sequence[str], Iterable[dict]]]) -> bytes:
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
    return out.getvalue()


def xlsx_response(name: str, sheets: Sequence[tuple[str, Sequence[str], Iterable[dict]]]) -> HttpResponse:
    response = HttpResponse(xlsx_bytes(sheets), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response
