"""In real Chromium: an organiser invites an outside speaker from the gathering's page; the speaker follows the
e-mail's set-password link, logs in, and sees only that gathering's page, its calendar file and its materials;
every other page (the community's home, another gathering, the publishing calendar, the inbox) is a 403."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from dandelion.community import services
from dandelion.core.actors import SYSTEM
from tests.browser.conftest import login, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_invited_guest_sees_only_the_gathering_page_and_materials(page, org, tmp_path, settings, live_server):
    settings.MEDIA_ROOT = tmp_path
    start = timezone.now() + dt.timedelta(days=9)
    gathering = services.create_gathering(actor=SYSTEM, unit=org.hub, title="Community day", starts_at=start,
                                          ends_at=start + dt.timedelta(hours=6), capacity=50, place="Lyon")
    # the day has begun (materials are attached once a gathering has started; guests invited until it ends)
    type(gathering).objects.filter(pk=gathering.pk).update(starts_at=timezone.now() - dt.timedelta(hours=1),
                                                           ends_at=timezone.now() + dt.timedelta(hours=5))
    gathering.refresh_from_db()
    other = services.create_gathering(actor=SYSTEM, unit=org.hub, title="Spring gathering",
                                      starts_at=start + dt.timedelta(days=60),
                                      ends_at=start + dt.timedelta(days=60, hours=4), capacity=50, place="Madrid")
    material = services.add_material(gathering, actor=org.users.hub_admin, title="Agenda and brief",
                                     file=SimpleUploadedFile("brief.pdf", b"%PDF-1.4\n% the brief\n",
                                                             content_type="application/pdf"))
    mail.outbox = []

    # the organiser invites a speaker from the gathering's page
    login(page, "hubadmin")
    page.goto(gathering.get_absolute_url())
    page.fill("#guest-invite #id_name", "Ada Peer")
    page.fill("#guest-invite #id_email", "ada@peer.example")
    page.fill("#guest-invite #id_affiliation", "PeerCo")
    page.select_option("#guest-invite #id_role", "speaker")
    page.click("#guest-invite button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "Ada Peer" in page.inner_text("body")
    assert mail.outbox and mail.outbox[-1].to == ["ada@peer.example"]
    link = next(line.strip() for line in mail.outbox[-1].body.splitlines() if "/guests/welcome/" in line)
    page.context.clear_cookies()

    # the guest follows the link, chooses a password and lands on the gathering's page
    page.goto(link[link.index("/community/"):])
    assert page.locator("#welcome-title").count() == 1
    page.fill("#id_new_password1", "a-Long-guest-pass-42")
    page.fill("#id_new_password2", "a-Long-guest-pass-42")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(gathering.get_absolute_url())
    assert "Community day" in page.inner_text("h1")
    assert page.locator("#guest-note").count() == 1
    assert "Agenda and brief" in page.inner_text("#materials")
    # the layout's own background loads (the notification bell) are not refused in the guest's face
    page.wait_for_load_state("networkidle")
    assert page.locator("#htmx-error").count() == 0
    shot(page, "community-guest-gathering")
    # the materials and the calendar file open
    download = page.request.get(live_server.url + reverse("community:material-download", args=[material.pk]))
    assert download.status == 200 and download.body().startswith(b"%PDF")
    ics = page.request.get(live_server.url + reverse("community:gathering-ics", args=[gathering.pk]))
    assert ics.status == 200 and b"BEGIN:VCALENDAR" in ics.body()

    # every other page is a 403 with a clear message
    for path in ("/community/", other.get_absolute_url(), "/publishing/", "/inbox/", "/accounts/"):
        response = page.goto(path)
        assert response.status == 403, path
        assert "invited guest" in page.inner_text("body"), path
    shot(page, "community-guest-forbidden")

    # logged out and in again with the password chosen: the same single page
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("#id_username", get_user_model().objects.get(email="ada@peer.example").get_username())
    page.fill("#id_password", "a-Long-guest-pass-42")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.goto(gathering.get_absolute_url()).status == 200
    assert page.goto("/community/").status == 403
