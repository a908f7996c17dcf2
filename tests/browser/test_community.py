"""In real Chromium: a community manager searches the knowledge base, passes the path's quiz to be certified,
registers for the next gathering and downloads its .ics."""

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone
from icalendar import Calendar

from dandelion.community import enablement, services
from dandelion.community.models import RoleRequirement
from dandelion.core.actors import SYSTEM
from tests.browser.conftest import login, settled, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_community_manager_gets_certified_registers_and_downloads_the_ics(page, org):
    article = services.create_article(actor=SYSTEM, unit=org.hub, title="Crisis escalation checklist",
                                      body="Escalate a viral complaint to the PR manager within 15 minutes.")
    path = enablement.create_learning_path(
        actor=SYSTEM, unit=org.hub, title="Publishing basics", articles=[article],
        quiz=[{"text": "Escalate within?", "choices": ["15 minutes", "a day"], "correct": [0]}])
    RoleRequirement.objects.create(unit=org.hub, role="community_manager", certification=path.certification,
                                   require_guidelines=False)
    start = timezone.now() + dt.timedelta(days=12)
    gathering = services.create_gathering(actor=SYSTEM, unit=org.hub, title="Community day", starts_at=start,
                                          ends_at=start + dt.timedelta(hours=6), capacity=50, place="Lyon")
    assert not services.may_publish(org.users.fr_cm, org.france)  # not yet allowed to publish

    login(page, "frcm")
    # the enablement page says why, with the path to follow
    page.goto("/community/enablement/")
    assert "Before publishing here you need" in page.inner_text("#my-status")
    assert page.locator(f"#my-status a[href='{path.get_absolute_url()}']").count() == 1
    page.goto("/community/articles/")
    page.fill("#id_q", "escalate viral")
    page.press("#id_q", "Enter")
    page.wait_for_selector("#results mark")
    settled(page)
    assert "<mark>" in page.inner_html("#results")
    page.fill("#id_q", "the and")
    page.press("#id_q", "Enter")
    page.wait_for_selector("#results .error")
    settled(page)
    assert "only common words" in page.inner_text("#results")

    page.goto(path.get_absolute_url())
    page.check("#quiz input[value='0']")
    page.click("#quiz button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("#certified").count() == 1
    assert enablement.missing_for(org.users.fr_cm, org.france) == []
    assert services.may_publish(org.users.fr_cm, org.france)  # what publishing asks before it publishes
    page.goto("/community/enablement/")
    assert "May publish" in page.inner_text("#my-status")
    shot(page, "community-enablement-certified")

    page.goto(gathering.get_absolute_url())
    page.click("#register")
    page.wait_for_load_state("networkidle")
    assert "You are registered" in page.inner_text("#rsvp")
    shot(page, "community-gathering-registered")
    with page.expect_download() as info:
        page.click("#ics-link")
    content = Path(info.value.path()).read_bytes()
    events = list(Calendar.from_ical(content).walk("VEVENT"))
    assert [str(e["SUMMARY"]) for e in events] == ["Community day"]


def test_community_manager_lists_themself_and_finds_an_expert(page, org):
    services.update_profile(actor=org.users.pr, user=org.users.pr, unit=org.hub, headline="Group PR",
                            skills=["crisis", "press"], languages=["en", "fr"], visibility="group")
    services.update_profile(actor=org.users.es_admin, user=org.users.es_admin, unit=org.spain,
                            headline="Spain's lead", skills=["crisis"])  # Spain's only: France does not see it
    login(page, "frcm")
    page.goto("/community/members/")
    page.click("#edit-my-entry")
    page.select_option("#id_unit", str(org.france.pk))
    page.fill("#id_headline", "Runs @brand_fr")
    page.fill("#id_networks", "facebook, instagram")
    page.fill("#id_languages", "fr, en")
    page.fill("#id_skills", "live video, crisis")
    page.click("#profile-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "Runs @brand_fr" in page.inner_text("h1 + p")
    page.goto("/community/members/")
    page.fill("#id_skill", "crisis")
    page.click("form.filters button[type=submit]")
    settled(page)
    table = page.inner_text("#member-table")
    assert "Group PR" in table and "Runs @brand_fr" in table and "Spain" not in table
    shot(page, "community-members-directory")
    page.click("#member-table >> text=pr")
    page.wait_for_load_state("networkidle")
    page.fill("#ask #id_title", "How do we word a recall notice?")
    page.click("#ask button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "How do we word a recall notice?" in page.inner_text("h1")


def test_guest_registers_organiser_sees_them_attaches_slides_and_reminders_go_out(page, org, tmp_path, settings):
    """An outside guest registers by e-mail and confirms; the organiser sees them among the attendees; the reminder
    job mails them (once); after the gathering the organiser uploads the slides, a member downloads them."""
    from django.core import mail

    from dandelion.community import reminders
    from dandelion.community.models import Gathering

    settings.MEDIA_ROOT = tmp_path
    start = timezone.now() + dt.timedelta(hours=20)
    gathering = services.create_gathering(actor=SYSTEM, unit=org.hub, title="Community day", starts_at=start,
                                          ends_at=start + dt.timedelta(hours=6), capacity=50, place="Lyon",
                                          open_to_guests=True)
    mail.outbox = []
    page.goto(f"/community/gatherings/{gathering.pk}/guests/")  # no account, no login
    page.fill("#id_name", "Grace Peer")
    page.fill("#id_email", "grace@other.example")
    page.fill("#id_affiliation", "OtherCo")
    page.click("#guest-form button[type=submit]")
    page.wait_for_selector("#guest-sent")
    body = mail.outbox[-1].body
    link = next(line.strip() for line in body.splitlines() if "/guests/confirm/" in line)
    page.goto(link[link.index("/community/"):])
    assert "your place is confirmed" in page.inner_text("#guest-confirmed")
    shot(page, "community-guest-confirmed")

    assert reminders.send_due_reminders() == 1 and reminders.send_due_reminders() == 0
    assert mail.outbox[-1].to == ["grace@other.example"] and "tomorrow" in mail.outbox[-1].subject

    login(page, "hubadmin")
    page.goto(gathering.get_absolute_url())
    assert "Grace Peer" in page.inner_text("#guest-list")
    assert "1 of 50 places taken" in page.inner_text("#rsvp")  # the guest holds a place
    # the gathering took place: the organiser attaches the slides
    Gathering.objects.filter(pk=gathering.pk).update(starts_at=start - dt.timedelta(days=2),
                                                     ends_at=start - dt.timedelta(days=2) + dt.timedelta(hours=6))
    slides = tmp_path / "slides.pdf"
    slides.write_bytes(b"%PDF-1.4\n% community day\n")
    page.goto(gathering.get_absolute_url())
    page.fill("#material-form #id_title", "Community day slides")
    page.set_input_files("#material-form #id_file", str(slides))
    page.click("#material-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "Community day slides" in page.inner_text("#materials")
    shot(page, "community-gathering-guests-materials")

    page.context.clear_cookies()
    login(page, "frcm")
    page.goto(gathering.get_absolute_url())
    with page.expect_download() as info:
        page.click("#materials a:has-text('Community day slides')")
    assert Path(info.value.path()).read_bytes() == slides.read_bytes()
