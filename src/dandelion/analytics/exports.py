"""Downloads of what a dashboard shows: CSV (one table), XLSX (every table of the page, one sheet each) and PDF
(the same tables, after the page's charts; ``core.pdf``).

The rows are those the page computed for the viewer's scope (``filters.resolve``): an export never reads more than
the page does. Text cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, carriage
return first) are prefixed with an apostrophe (OWASP's CSV injection advice): an account named ``=HYPERLINK(…)``
stays text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _

PDF_TYPE = "application/pdf"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

SERIES_COLUMNS = ("day", "inbound", "needs_reply", "answered", "response_rate", "frt_p50_s", "frt_p90_s",
                  "resolution_p50_s", "sla_met", "sla_breached", "sla_met_rate", "sentiment_positive",
                  "sentiment_neutral", "sentiment_negative", "hidden_spam", "hidden_abuse")
BREAKDOWN_COLUMNS = ("label", "inbound", "needs_reply", "answered", "response_rate", "frt_p50_s", "frt_p90_s",
                     "resolution_p50_s", "sla_met_rate", "negative_share", "hidden", "posts", "engagement",
                     "followers_gained")
PUBLISHED_COLUMNS = ("label", "posts", "links", "clicks", "clicks_per_post", "engagement", "likes", "replies",
                     "reposts", "engagement_per_post", "followers")
HEADLINE_COLUMNS = ("name", "value", "previous", "delta", "change")
LEADERBOARD_COLUMNS = ("peer_group", "rank", "account", "unit", "followers", "inbound", "response_rate",
                       "frt_p50_s", "frt_mean_s", "trend", "very_responsive", "posts", "engagement",
                       "engagement_rate", "engagement_trend", "followers_gained", "growth")


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


# ---- charts (the page's, also drawn in the PDF) ----

def dashboard_charts(data: dict, by_unit: list[dict]) -> dict:
    """The dashboard's charts (read by analytics/dashboard.js from a JSON block, never inline script; drawn again
    by :func:`pdf_bytes`)."""
    series = data["series"]
    days = [r["day"] for r in series]
    minutes = (lambda v: None if v is None else round(v / 60, 1))
    return {
        "volume": {"type": "line", "title": _("Volume"), "labels": days, "datasets": [
            {"label": _("Inbound"), "data": [r["inbound"] for r in series]},
            {"label": _("Needing a reply"), "data": [r["needs_reply"] for r in series]},
            {"label": _("Answered"), "data": [r["answered"] for r in series]}]},
        "response": {"type": "line", "title": _("First response time"), "labels": days, "unit": _("minutes"),
                     "datasets": [
            {"label": _("First response p50 (min)"), "data": [minutes(r["frt_p50_s"]) for r in series]},
            {"label": _("First response p90 (min)"), "data": [minutes(r["frt_p90_s"]) for r in series]}]},
        "sentiment": {"type": "bar", "title": _("Sentiment"), "stacked": True, "labels": days, "datasets": [
            {"label": _("Positive"), "data": [r["sentiment_positive"] for r in series]},
            {"label": _("Neutral"), "data": [r["sentiment_neutral"] for r in series]},
            {"label": _("Negative"), "data": [r["sentiment_negative"] for r in series]}]},
        "units": {"type": "bar", "title": _("Per unit"), "labels": [u["label"] for u in by_unit[:20]],
                  "percent": True, "datasets": [
            {"label": _("Response rate"), "data": [u["response_rate"] for u in by_unit[:20]]},
            {"label": _("SLA met"), "data": [u["sla_met_rate"] for u in by_unit[:20]]}]},
    }


def published_charts(pub: dict) -> dict:
    """The publishing charts: posts and clicks per day, posts per account (the top 20)."""
    days = [r["day"] for r in pub["series"]]
    top = pub["by_account"][:20]
    return {
        "published": {"type": "bar", "title": _("Publishing"), "labels": days, "datasets": [
            {"label": _("Posts published"), "data": [r["posts"] for r in pub["series"]]},
            {"label": _("Clicks"), "data": [r["clicks"] for r in pub["series"]]}]},
        "published_accounts": {"type": "bar", "title": _("Posts per account"),
                               "labels": [a["label"] for a in top], "datasets": [
            {"label": _("Posts published"), "data": [a["posts"] for a in top]},
            {"label": _("Clicks"), "data": [a["clicks"] for a in top]}]},
    }


def dashboard_sheets(data: dict, by_unit: list[dict], by_account: list[dict], pub: dict | None) -> list[tuple]:
    """Every table of a dashboard as ``(title, columns, rows)``: the XLSX's sheets and the PDF's tables."""
    return [(_("Summary"), HEADLINE_COLUMNS, data["headline"]), (_("Daily"), SERIES_COLUMNS, data["series"]),
            (_("Per unit"), BREAKDOWN_COLUMNS, by_unit), (_("Per account"), BREAKDOWN_COLUMNS, by_account),
            *([] if pub is None else [(_("Published per account"), PUBLISHED_COLUMNS, pub["by_account"]),
                                      (_("Published per unit"), PUBLISHED_COLUMNS, pub["by_unit"])])]


def pdf_bytes(title: str, subtitle: str, sheets: Sequence[tuple[str, Sequence[str], Iterable[dict]]],
              charts: dict | None = None) -> bytes:
    """A PDF of a dashboard: its charts, then every table of ``sheets`` (the XLSX's: the same rows and columns).
    Text goes in as text (``core.pdf`` escapes it): no formula defusing is needed, nor done."""
    from dandelion.core.pdf import PdfDocument

    doc = PdfDocument(title=title, subtitle=subtitle, landscape=True)
    for chart in (charts or {}).values():
        draw = doc.line_chart if chart["type"] == "line" else doc.bar_chart
        draw(chart.get("title") or "", labels=chart["labels"],
             series={d["label"]: d["data"] for d in chart["datasets"]})
    for sheet_title, columns, rows in sheets:
        doc.heading(sheet_title)
        # the XLSX's column names, spaced so a narrow column wraps between words
        doc.table([c.replace("_", " ") for c in columns], ([row.get(c) for c in columns] for row in rows),
                  empty=_("No data for this period."))
    return doc.render()


def pdf_response(name: str, data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type=PDF_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response
