"""Bulk CSV import (all or nothing, every bad line reported) and the CSV export round trip."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from dandelion.assets import services
from dandelion.assets.csvio import COLUMNS
from dandelion.assets.models import SocialAccount
from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from tests.assets.conftest import csv_bytes, row, upload

pytestmark = pytest.mark.django_db


def reasons(result):
    return {e.line: e.reason for e in result.errors}


def test_valid_file_of_300_rows_creates_300_accounts(org, django_assert_max_num_queries):
    rows = [row(n, owner_unit="france" if n % 2 else "spain", owner="frcm" if n % 3 == 0 else "") for n in range(300)]
    before = SocialAccount.objects.count()
    with django_assert_max_num_queries(20):
        result = services.import_accounts_csv(upload(csv_bytes(rows)), actor=org.users.europe_admin)
    assert result.ok, result.errors[:3]
    assert result.created == 300 and len(result.account_ids) == 300
    assert SocialAccount.objects.count() == before + 300
    account = SocialAccount.objects.get(network="facebook", external_id="imp-3")
    assert account.owner == org.users.fr_cm and account.owner_unit == org.france
    assert account.languages == ["fr", "en"] and account.country == "FR" and account.followers == 30
    assert account.connector == "facebook" and account.has_webhook_secret  # the network's default connector
    [event] = AuditEvent.objects.filter(action="assets.account.import")
    assert "Imported 300 accounts" in event.summary and event.changes == {"accounts": [0, 300]}
    assert event.unit == org.europe  # the deepest unit covering every row: its importer can read the row


def test_every_bad_row_is_reported_and_nothing_is_written(org):
    rows = [
        row(1),                                               # line 2: fine
        row(2, owner_unit="atlantis"),                        # line 3: unknown unit
        row(3, owner_unit="spain"),                           # line 4: outside the French admin's view: unknown
        row(4, owner="ghost"),                                # line 5: unknown owner
        row(5, network="myspace"),                            # line 6: bad network
        row(6, status="sleeping"),                            # line 7: bad status
        row(7, url="not a url"),                              # line 8: bad url
        row(8, external_id="imp-1"),                          # line 9: duplicate of line 2
        row(9, external_id="fb-fr"),                          # line 10: duplicate of an existing account
        row(10, handle=""),                                   # line 11: missing handle
        row(11, languages="fr;klingon"),                      # line 12: bad language
        row(12, followers="-3"),                              # line 13: bad followers
    ]
    before = SocialAccount.objects.count()
    result = services.import_accounts_csv(upload(csv_bytes(rows)), actor=org.users.fr_admin)
    assert not result.ok and result.created == 0
    assert SocialAccount.objects.count() == before
    assert not AuditEvent.objects.filter(action="assets.account.import").exists()
    got = reasons(result)
    assert result.error_lines == list(range(3, 14))
    assert "Unknown unit 'atlantis'" in got[3]
    assert "Unknown unit 'spain'" in got[4]  # the same answer as for a unit that does not exist
    assert "Unknown owner 'ghost'" in got[5]
    assert "Unknown network 'myspace'" in got[6]
    assert "Bad status 'sleeping'" in got[7]
    assert "not a valid http(s) URL" in got[8]
    assert "Duplicate within the file" in got[9] and "line 2" in got[9]
    assert "Duplicate of an existing account" in got[10]
    assert "handle is required" in got[11]
    assert "ISO 639-1" in got[12]
    assert "whole number" in got[13]


def test_missing_required_column(org):
    content = csv_bytes([row(1)], columns=[c for c in COLUMNS if c != "owner_unit"])
    result = services.import_accounts_csv(upload(content), actor=org.users.hub_admin)
    assert not result.ok and "Missing required column(s): owner_unit" in result.errors[0].reason
    assert result.errors[0].line == 1


def test_not_utf8_not_csv_empty_and_oversized(org, settings):
    latin1 = csv_bytes([row(1, display_name="Société Générale")], encoding="latin-1")
    result = services.import_accounts_csv(upload(latin1), actor=org.users.hub_admin)
    assert not result.ok and "not UTF-8" in result.errors[0].reason and result.errors[0].line == 2
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
    result = services.import_accounts_csv(upload(png, "logo.png"), actor=org.users.hub_admin)
    assert not result.ok and "not a CSV" in result.errors[0].reason
    result = services.import_accounts_csv(upload(b"just some prose\nwithout any commas\n"), actor=org.users.hub_admin)
    assert not result.ok and "not a CSV" in result.errors[0].reason
    result = services.import_accounts_csv(upload(b""), actor=org.users.hub_admin)
    assert not result.ok and "empty" in result.errors[0].reason
    settings.DANDELION_MAX_IMPORT_BYTES = 200
    big = csv_bytes([row(n) for n in range(10)])
    result = services.import_accounts_csv(upload(big), actor=org.users.hub_admin)
    assert not result.ok and "too large" in result.errors[0].reason
    assert SocialAccount.objects.count() == 2


def test_import_tolerates_bom_semicolons_and_blank_lines(org):
    text = "\ufeffnetwork;handle;external_id;owner_unit;languages\n\nx;@a;x-1;france;fr en\n\ny;@b;x-2;france;\n"
    result = services.import_accounts_csv(upload(text.replace("y;", "x;").encode()), actor=org.users.fr_admin)
    assert result.ok, result.errors
    assert SocialAccount.objects.get(external_id="x-1").languages == ["fr", "en"]


def test_import_with_wrong_cell_count_reports_the_line(org):
    text = "network,handle,external_id,owner_unit\nfacebook,@a,a-1,france\nfacebook,@b,france\n"
    result = services.import_accounts_csv(upload(text.encode()), actor=org.users.fr_admin)
    assert reasons(result) == {3: "Expected 4 cells, found 3."}


def test_a_visible_unit_without_the_add_permission_is_refused_by_name(org):
    """Someone who reads the whole organisation but registers accounts only in France is told why Spain is refused."""
    from dandelion.orgs.choices import Role
    from tests.factories import MembershipFactory

    MembershipFactory(user=org.users.fr_cm, unit=org.hub, role=Role.ANALYST)
    result = services.import_accounts_csv(upload(csv_bytes([row(1), row(2, owner_unit="spain")])),
                                          actor=org.users.fr_cm)
    assert not result.ok and "outside your scope" in reasons(result)[3]


def test_import_requires_add_permission(org):
    with pytest.raises(PermissionDeniedError):
        services.import_accounts_csv(upload(csv_bytes([row(1)])), actor=org.users.analyst)


def test_import_page_shows_results(org, client_for):
    client = client_for(org.users.fr_admin)
    url = reverse("assets:account-import")
    assert client.get(url).status_code == 200
    bad = csv_bytes([row(1), row(2, owner_unit="spain")])
    response = client.post(url, {"file": upload(bad)})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Nothing was imported" in body and "Unknown unit" in body and "spain" in body and ">3<" in body
    response = client.post(url, {"file": upload(csv_bytes([row(1), row(2)]))})
    assert response.status_code == 200 and "Imported 2 accounts" in response.content.decode()


def test_import_page_refuses_oversized_upload(org, client_for, settings):
    settings.DANDELION_MAX_IMPORT_BYTES = 100
    response = client_for(org.users.hub_admin).post(reverse("assets:account-import"),
                                                    {"file": upload(csv_bytes([row(n) for n in range(5)]))})
    assert response.status_code == 400 and "too large" in response.content.decode()
    assert SocialAccount.objects.count() == 2


def read_export(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_export_round_trip(org, client_for, settings):
    rows = [row(n, owner="frcm" if n == 1 else "", display_name="=HYPERLINK(\"x\")" if n == 2 else f"A {n}")
            for n in range(1, 6)]
    assert services.import_accounts_csv(upload(csv_bytes(rows)), actor=org.users.hub_admin).ok
    response = client_for(org.users.hub_admin).get(reverse("assets:account-export"), {"q": "imp-"})
    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    exported = read_export(response)
    assert [r["external_id"] for r in exported] == [f"imp-{n}" for n in range(1, 6)]
    assert list(exported[0]) == list(COLUMNS)
    assert exported[1]["display_name"].startswith("'=")  # spreadsheet formulas neutralised
    # the export imports back as the same accounts (after they are removed)
    SocialAccount.objects.filter(external_id__startswith="imp-").delete()
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(COLUMNS))
    writer.writeheader()
    writer.writerows(exported)
    result = services.import_accounts_csv(upload(buf.getvalue().encode()), actor=org.users.hub_admin)
    assert result.ok, result.errors
    again = SocialAccount.objects.get(external_id="imp-1")
    assert again.owner == org.users.fr_cm and again.languages == ["fr", "en"] and again.followers == 10
    assert SocialAccount.objects.get(external_id="imp-2").display_name == '=HYPERLINK("x")'


def test_export_follows_filters_and_scope(org, client_for):
    exported = read_export(client_for(org.users.fr_admin).get(reverse("assets:account-export")))
    assert [r["external_id"] for r in exported] == ["fb-fr"]
    exported = read_export(client_for(org.users.hub_admin).get(reverse("assets:account-export"),
                                                               {"network": "instagram"}))
    assert [r["external_id"] for r in exported] == ["ig-es"]
    assert read_export(client_for(org.users.moderator).get(reverse("assets:account-export"))) == []
