"""The weekly digest through a real SMTP server (aiosmtpd): one e-mail per hub or spoke admin about their unit,
HTML and text with the week's PDF and XLSX attached, each person's figures within their scope; sent once however often the
job runs, a refused send retried, a person who lost access skipped; the job's capability is SYSTEM's."""

from __future__ import annotations

import datetime as dt
import io
import socket
from email import message_from_bytes, policy

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from dandelion.analytics import digest, exports, jobs, services
from dandelion.analytics.choices import DigestStatus
from dandelion.analytics.models import DigestDelivery
from dandelion.core.actors import SYSTEM
from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from tests.analytics.conftest import DAY

pytestmark = pytest.mark.django_db

TODAY = DAY + dt.timedelta(days=7 - DAY.weekday())  # the Monday after DAY's week: DAY is in "last week"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(settings):
    """A real SMTP server collecting what it receives."""
    from aiosmtpd.controller import Controller

    class Received(list):
        port = 0

    received = Received()

    class Collect:
        async def handle_DATA(self, server, session, envelope):
            received.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    port = _free_port()
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "Dandelion <noreply@example.org>"
    received.port = port
    yield received
    controller.stop()


@pytest.fixture
def week(traffic):
    services.rebuild_days(DAY - dt.timedelta(days=14), DAY, actor=SYSTEM)
    for user in (traffic.users.hub_admin, traffic.users.fr_admin, traffic.users.es_admin,
                 traffic.users.europe_admin, traffic.users.fr_agent, traffic.users.analyst):
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])
    return traffic


def _by_recipient(received) -> dict:
    return {m["To"]: m for m in received}


def test_each_admin_gets_their_units_week_once(week, smtp):
    counts = services.send_weekly_digests(actor=SYSTEM, today=TODAY)
    mails = _by_recipient(smtp)
    # hub and spoke admins (Europe's included); agents and analysts get none
    assert set(mails) == {"hubadmin@example.org", "fradmin@example.org", "esadmin@example.org",
                          "euadmin@example.org"}
    assert counts == {"planned": 4, "sent": 4, "failed": 0, "skipped": 0}
    hub = mails["hubadmin@example.org"]
    assert "Group hub" in hub["Subject"] and hub["From"] == "Dandelion <noreply@example.org>"
    html = hub.get_body(preferencelist=("html",)).get_content()
    text = hub.get_body(preferencelist=("plain",)).get_content()
    assert "France" in html and "Spain" in html and "75.0 %" in html
    assert "France" in text and f"unit={week.hub.pk}" in text
    attachments = {a.get_content_type(): a for a in hub.iter_attachments()}
    assert set(attachments) == {"application/pdf", exports.XLSX_TYPE}
    book = load_workbook(io.BytesIO(attachments[exports.XLSX_TYPE].get_content()), read_only=True)
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["inbound"] == 5
    # the PDF: the same week's charts and tables, read back as text
    pdf = attachments["application/pdf"]
    assert pdf.get_filename().endswith(f"-{(TODAY - dt.timedelta(days=7)).isoformat()}.pdf")
    reader = PdfReader(io.BytesIO(pdf.get_content()))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Group hub" in text and "Volume" in text and "France" in text and "Spain" in text
    assert "inbound" in text and "response rate" in " ".join(text.split())
    # a spoke's digest holds its own figures only
    spain = mails["esadmin@example.org"].get_body(preferencelist=("html",)).get_content()
    assert "Spain" in spain and "France" not in spain
    # running again (the hourly job) sends nothing more
    assert services.send_weekly_digests(actor=SYSTEM, today=TODAY)["sent"] == 0
    assert len(smtp) == 4 and DigestDelivery.objects.filter(status=DigestStatus.SENT).count() == 4
    # the hourly job (this week's "last week"): its second run sends nothing either
    first = jobs.send_weekly_digests.call()
    assert jobs.send_weekly_digests.call() == {"planned": 0, "sent": 0, "failed": 0, "skipped": 0}
    assert len(smtp) == 4 + first["sent"]
    assert AuditEvent.objects.filter(action="analytics.digest_send").count() == 1 + bool(first["sent"])


def test_a_refused_send_is_retried_and_a_person_without_access_is_skipped(week, smtp, settings):
    settings.EMAIL_PORT = _free_port()  # nobody listens: every send fails
    counts = services.send_weekly_digests(actor=SYSTEM, today=TODAY)
    assert counts["failed"] == 4 and smtp == []
    assert set(DigestDelivery.objects.values_list("status", "attempts")) == {(DigestStatus.FAILED, 1)}
    week.users.es_admin.memberships.update(is_active=False)  # Spain's admin leaves before the retry
    settings.EMAIL_PORT = smtp.port
    counts = services.send_weekly_digests(actor=SYSTEM, today=TODAY)
    assert counts["sent"] == 3 and counts["skipped"] == 1
    assert "esadmin@example.org" not in _by_recipient(smtp)


def test_an_empty_week_says_so(org, smtp):
    org.users.fr_admin.email = "fradmin@example.org"
    org.users.fr_admin.save(update_fields=["email"])
    services.send_weekly_digests(actor=SYSTEM, today=TODAY)
    mail = _by_recipient(smtp)["fradmin@example.org"]
    assert "No activity this week" in mail.get_body(preferencelist=("plain",)).get_content()


def test_sending_digests_is_a_system_capability(org):
    for user in (org.users.fr_admin, org.users.analyst, org.users.moderator, org.users.fr_agent):
        with pytest.raises(PermissionDeniedError):
            services.send_weekly_digests(actor=user, today=TODAY)


def test_last_week_is_the_last_complete_iso_week():
    monday = dt.date(2026, 3, 9)
    for offset in range(7):
        week = digest.last_week(monday + dt.timedelta(days=offset))
        assert (week.start, week.end) == (dt.date(2026, 3, 2), dt.date(2026, 3, 8))
