"""Downloads: every table of the dashboard as XLSX (one sheet each) and CSV, streamed, within the viewer's scope
(a spoke's export holds no other spoke), formula-looking text defused; the leaderboard's too."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from dandelion.analytics import exports, services
from dandelion.core.actors import SYSTEM
from tests.analytics.conftest import DAY

pytestmark = pytest.mark.django_db

PERIOD = {"start": str(DAY - dt.timedelta(days=6)), "end": str(DAY)}


@pytest.fixture
def rolled(traffic):
    services.rebuild_days(DAY - dt.timedelta(days=7), DAY, actor=SYSTEM)
    return traffic


def _sheets(response) -> dict[str, list[tuple]]:
    assert response.status_code == 200 and response["Content-Type"] == exports.XLSX_TYPE
    assert 'filename="analytics.xlsx"' in response["Content-Disposition"] or "top-properties" in \
        response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def test_the_hub_exports_every_table_of_its_dashboard(rolled, client_for):
    sheets = _sheets(client_for(rolled.users.hub_admin).get(reverse("analytics:dashboard"),
                                                            {**PERIOD, "format": "xlsx"}))
    assert list(sheets) == ["Summary", "Daily", "Per unit", "Per account", "Published per account",
                            "Published per unit"]
    summary = {row[0]: row[1] for row in sheets["Summary"][1:]}
    assert summary["inbound"] == 5 and summary["response_rate"] == 0.75
    assert len(sheets["Daily"]) == 1 + 7 and sheets["Daily"][-1][:5] == (str(DAY), 5, 4, 3, 0.75)
    assert {row[0] for row in sheets["Per unit"][1:]} == {"France", "Spain"}
    assert len(sheets["Per account"]) == 3


def test_a_spoke_exports_only_its_own_figures(rolled, client_for):
    client = client_for(rolled.users.es_admin)
    sheets = _sheets(client.get(reverse("analytics:dashboard"), {**PERIOD, "format": "xlsx"}))
    assert [row[0] for row in sheets["Per unit"][1:]] == ["Spain"]
    assert {row[0]: row[1] for row in sheets["Summary"][1:]}["inbound"] == 1
    # asking for France's subtree in the export is a 404, as on the page
    assert client.get(reverse("analytics:dashboard"),
                      {**PERIOD, "format": "xlsx", "unit": rolled.france.pk}).status_code == 404
    assert client_for(rolled.users.moderator).get(reverse("analytics:dashboard"),
                                                  {**PERIOD, "format": "xlsx"}).status_code == 403


def test_csv_is_streamed(rolled, client_for):
    response = client_for(rolled.users.hub_admin).get(reverse("analytics:dashboard"),
                                                      {**PERIOD, "format": "csv", "table": "accounts"})
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("label,inbound") and len(lines) == 3


def test_leaderboard_xlsx(rolled, client_for):
    sheets = _sheets(client_for(rolled.users.hub_admin).get(reverse("analytics:leaderboard"),
                                                            {**PERIOD, "format": "xlsx"}))
    rows = sheets["Top properties"]
    assert rows[0][:3] == ("peer_group", "rank", "account") and len(rows) == 3


def test_formula_looking_text_is_defused_in_both_formats():
    rows = [{"label": "=HYPERLINK(\"http://evil\")", "n": -3}, {"label": "@SUM(A1)", "n": None}]
    csv_text = b"".join(exports.csv_response("x", ("label", "n"), iter(rows)).streaming_content).decode()
    assert "'=HYPERLINK" in csv_text and "'@SUM" in csv_text and ",-3" in csv_text
    book = load_workbook(io.BytesIO(exports.xlsx_response("x", [("t", ("label", "n"), rows)]).content))
    cells = [row for row in book["t"].iter_rows(min_row=2, values_only=True)]
    assert cells == [("'=HYPERLINK(\"http://evil\")", -3), ("'@SUM(A1)", None)]
    assert all(c.data_type != "f" for row in book["t"].iter_rows() for c in row)


def _pdf_text(response) -> str:
    assert response.status_code == 200 and response["Content-Type"] == exports.PDF_TYPE
    assert response.content.startswith(b"%PDF-")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    return " ".join(text.split())  # a cell's text wraps over lines


def test_the_dashboard_pdf_holds_the_xlsx_tables_and_the_charts(rolled, client_for):
    client = client_for(rolled.users.hub_admin)
    text = _pdf_text(client.get(reverse("analytics:dashboard"), {**PERIOD, "format": "pdf"}))
    sheets = _sheets(client.get(reverse("analytics:dashboard"), {**PERIOD, "format": "xlsx"}))
    for title in sheets:  # every sheet of the workbook is a table of the PDF, with the same columns
        assert title in text
        for column in sheets[title][0] if len(sheets[title]) > 1 else ():  # an empty table says so instead
            assert column.replace("_", " ") in text
    assert str(DAY) in text and "France" in text and "Spain" in text
    assert "Volume" in text and "Inbound" in text and "First response p90 (min)" in text  # the charts' legends
    assert PERIOD["start"] in text and PERIOD["end"] in text


def test_a_spokes_pdf_holds_only_its_figures_and_bad_input_is_not_a_pdf(rolled, client_for):
    client = client_for(rolled.users.es_admin)
    text = _pdf_text(client.get(reverse("analytics:dashboard"), {**PERIOD, "format": "pdf"}))
    assert "Spain" in text and "France" not in text
    assert client.get(reverse("analytics:dashboard"),
                      {**PERIOD, "format": "pdf", "unit": rolled.france.pk}).status_code == 404
    assert client.get(reverse("analytics:dashboard"),
                      {"start": "2026-02-30", "format": "pdf"}).status_code == 400
    # a period with no data is a PDF that says so
    text = _pdf_text(client.get(reverse("analytics:dashboard"),
                                {"start": "2020-01-01", "end": "2020-01-07", "format": "pdf"}))
    assert "No data for this period." in text


def test_leaderboard_pdf(rolled, client_for):
    text = _pdf_text(client_for(rolled.users.hub_admin).get(reverse("analytics:leaderboard"),
                                                            {**PERIOD, "format": "pdf"}))
    assert "Top properties" in text and "peer group" in text
