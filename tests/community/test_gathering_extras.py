"""Gathering reminders (exactly once), materials, outside guests, editing a series from one gathering on."""

import datetime as dt
import zoneinfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from dandelion.community import reminders, services
from dandelion.community.exceptions import InvalidCommunityData
from dandelion.community.models import Gathering, GuestRegistration, Material, ReminderSent
from dandelion.core.actors import SYSTEM
from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent, UserProfile

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def _gathering(org, *, start, hours=2, **kw):
    return services.create_gathering(actor=SYSTEM, unit=org.hub, title="Community day", starts_at=start,
                                     ends_at=start + dt.timedelta(hours=hours), place="Paris", **kw)


@pytest.fixture
def coming(org):
    return _gathering(org, start=timezone.now() + dt.timedelta(hours=20))


# --- reminders -------------------------------------------------------------------------------------------------


def test_reminders_once_per_registration_in_each_language_and_zone(org, coming, mailoutbox):
    u = org.users
    u.fr_cm.email, u.es_agent.email = "frcm@example.org", "es@example.org"
    u.fr_cm.save(), u.es_agent.save()
    UserProfile.objects.create(user=u.fr_cm, language="fr", time_zone="America/Montreal")
    services.register_for_gathering(coming, actor=u.fr_cm)
    services.register_for_gathering(coming, actor=u.es_agent)
    now = timezone.now()
    assert reminders.send_due_reminders(now) == 2
    assert reminders.send_due_reminders(now) == 0  # the job runs again: nothing twice
    assert reminders.send_due_reminders(now + dt.timedelta(minutes=5)) == 0
    by_to = {m.to[0]: m for m in mailoutbox}
    assert set(by_to) == {"frcm@example.org", "es@example.org"}
    assert "demain" in by_to["frcm@example.org"].subject  # French
    local = timezone.localtime(coming.starts_at, zoneinfo.ZoneInfo("America/Montreal"))
    assert f"{local:%H:%M}" in by_to["frcm@example.org"].body or local.strftime("%-H:%M") in \
        by_to["frcm@example.org"].body
    assert "tomorrow" in by_to["es@example.org"].subject
    # an hour before: the second reminder, once
    later = coming.starts_at - dt.timedelta(minutes=50)
    assert reminders.send_due_reminders(later) == 2
    assert reminders.send_due_reminders(later) == 0
    assert sorted(ReminderSent.objects.values_list("kind", flat=True)) == ["1d", "1d", "1h", "1h"]
    assert len(mailoutbox) == 4


def test_two_workers_claim_each_reminder_once(org, coming, mailoutbox):
    """A second worker that already read the same due list finds every claim taken."""
    org.users.fr_cm.email = "frcm@example.org"
    org.users.fr_cm.save()
    services.register_for_gathering(coming, actor=org.users.fr_cm)
    now = timezone.now()
    people = reminders._recipients(coming, "1d")
    assert reminders._send_one(coming, "1d", people[0], now) is True
    assert reminders._send_one(coming, "1d", people[0], now) is False
    assert len(mailoutbox) == 1


def test_a_failed_send_is_retried(org, coming, mailoutbox, monkeypatch):
    org.users.fr_cm.email = "frcm@example.org"
    org.users.fr_cm.save()
    services.register_for_gathering(coming, actor=org.users.fr_cm)

    def boom(**kw):
        raise OSError("smtp down")

    monkeypatch.setattr(reminders, "send_mail", boom)
    assert reminders.send_due_reminders() == 0
    assert not ReminderSent.objects.exists()
    monkeypatch.undo()
    assert reminders.send_due_reminders() == 1 and len(mailoutbox) == 1


def test_no_reminder_for_cancelled_waitlisted_or_far(org, mailoutbox):
    u = org.users
    for user in (u.fr_cm, u.es_agent):
        user.email = f"{user.username}@example.org"
        user.save()
    far = _gathering(org, start=timezone.now() + dt.timedelta(days=3))
    services.register_for_gathering(far, actor=u.fr_cm)
    small = _gathering(org, start=timezone.now() + dt.timedelta(hours=5), capacity=1)
    services.register_for_gathering(small, actor=u.fr_cm)
    services.register_for_gathering(small, actor=u.es_agent)  # waiting list
    cancelled = _gathering(org, start=timezone.now() + dt.timedelta(hours=5))
    services.register_for_gathering(cancelled, actor=u.es_agent)
    services.update_gathering(cancelled, actor=SYSTEM, is_cancelled=True)
    assert reminders.send_due_reminders() == 1
    assert [m.to for m in mailoutbox] == [["frcm@example.org"]]


def test_the_periodic_job_is_registered_and_runs(org, coming, mailoutbox):
    from dandelion.community import jobs
    from dandelion.core.jobs import periodic_jobs

    assert periodic_jobs()["community.reminders"].task is jobs.send_gathering_reminders
    org.users.fr_cm.email = "frcm@example.org"
    org.users.fr_cm.save()
    services.register_for_gathering(coming, actor=org.users.fr_cm)
    assert jobs.send_gathering_reminders.call() == {"sent": 1}
    assert jobs.send_gathering_reminders.call() == {"sent": 0}


# --- materials ---------------------------------------------------------------------------------------------------


@pytest.fixture
def past(org):
    return _gathering(org, start=timezone.now() - dt.timedelta(days=2))


PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"


def test_materials_link_and_file(org, past, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    m1 = services.add_material(past, actor=org.users.hub_admin, title="Recording",
                               url="https://video.example.org/day")
    m2 = services.add_material(past, actor=org.users.hub_admin, title="Slides",
                               file=SimpleUploadedFile("slides.pdf", PDF, content_type="application/pdf"))
    assert m1.url and m2.file.name.endswith(".pdf")
    assert m2.file.read() == PDF
    assert AuditEvent.objects.filter(action="community.material.add").count() == 2
    services.remove_material(m2, actor=org.users.hub_admin)
    assert not Material.objects.filter(pk=m2.pk).exists()


@pytest.mark.parametrize(("name", "content", "message"), [
    ("evil.exe", b"MZ...", "type"), ("slides.pdf", b"<html>not a pdf", "content"), ("empty.pdf", b"", "empty"),
])
def test_material_files_are_type_checked(org, past, settings, tmp_path, name, content, message):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(InvalidCommunityData) as err:
        services.add_material(past, actor=org.users.hub_admin, title="x", file=SimpleUploadedFile(name, content))
    assert message in str(err.value)
    assert not Material.objects.exists()


def test_material_files_are_size_capped(org, past, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.DANDELION_COMMUNITY_MAX_MATERIAL_BYTES = 1024 * 1024
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * (1024 * 1024))
    with pytest.raises(InvalidCommunityData, match="larger"):
        services.add_material(past, actor=org.users.hub_admin, title="x", file=big)


@pytest.mark.parametrize(("who", "allowed"), [
    ("hub_admin", True), ("fr_admin", False), ("fr_cm", False), ("fr_agent", False), ("analyst", False),
    ("nobody", False)])
def test_material_permission_matrix(org, past, who, allowed):
    user = getattr(org.users, who)
    if allowed:
        services.add_material(past, actor=user, title="Notes", url="https://example.org/notes")
    else:
        with pytest.raises(PermissionDeniedError):
            services.add_material(past, actor=user, title="Notes", url="https://example.org/notes")


def test_materials_wait_for_the_gathering_and_need_one_source(org, coming, past):
    with pytest.raises(InvalidCommunityData, match="started"):
        services.add_material(coming, actor=SYSTEM, title="x", url="https://example.org")
    with pytest.raises(InvalidCommunityData, match="one of them"):
        services.add_material(past, actor=SYSTEM, title="x")
    with pytest.raises(InvalidCommunityData, match="valid"):
        services.add_material(past, actor=SYSTEM, title="x", url="javascript:alert(1)")


def test_material_download_only_for_who_sees_the_gathering(org, settings, tmp_path, client_for):
    settings.MEDIA_ROOT = tmp_path
    start = timezone.now() - dt.timedelta(days=1)
    fr_only = services.create_gathering(actor=SYSTEM, unit=org.france, title="FR meetup", starts_at=start,
                                        ends_at=start + dt.timedelta(hours=1), place="Lyon")
    m = services.add_material(fr_only, actor=org.users.fr_admin, title="Slides",
                              file=SimpleUploadedFile("s.pdf", PDF))
    url = reverse("community:material-download", args=[m.pk])
    response = client_for(org.users.fr_cm).get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert client_for(org.users.es_agent).get(url).status_code == 404


def test_material_upload_view(org, past, settings, tmp_path, client_for):
    settings.MEDIA_ROOT = tmp_path
    url = reverse("community:material-add", args=[past.pk])
    response = client_for(org.users.hub_admin).post(url, {"title": "Slides", "file": SimpleUploadedFile(
        "s.pdf", PDF)})
    assert response.status_code == 302
    assert past.materials.get().title == "Slides"
    assert client_for(org.users.fr_cm).post(url, {"title": "x", "url": "https://e.org"}).status_code == 403
    page = client_for(org.users.fr_cm).get(past.get_absolute_url())
    assert b"Slides" in page.content


# --- guests ------------------------------------------------------------------------------------------------------


@pytest.fixture
def open_day(org):
    g = _gathering(org, start=timezone.now() + dt.timedelta(days=5), capacity=2)
    g.open_to_guests = True
    g.save()
    return g


def test_guest_registers_confirms_and_the_organiser_sees_them(
        org, open_day, client, client_for, mailoutbox, django_capture_on_commit_callbacks):
    url = reverse("community:guest-register", args=[open_day.pk])
    assert client.get(url).status_code == 200  # no account needed
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"name": "Grace Peer", "email": "Grace@Other.example", "affiliation": "OtherCo"})
    assert response.status_code == 200 and b"inbox" in response.content
    guest = GuestRegistration.objects.get()
    assert guest.email == "grace@other.example" and guest.status == GuestRegistration.Status.PENDING
    assert mailoutbox[0].to == ["grace@other.example"]
    link = next(line for line in mailoutbox[0].body.splitlines() if "/guests/confirm/" in line)
    confirm = client.get(link[link.index("/"):] if link.startswith("/") else link[link.index("/community"):])
    assert confirm.status_code == 200
    guest.refresh_from_db()
    assert guest.status == GuestRegistration.Status.GOING
    page = client_for(org.users.hub_admin).get(open_day.get_absolute_url())
    assert b"Grace Peer" in page.content and b"grace@other.example" in page.content
    # a helper agent who may see the gathering but not organise it sees no guest list
    assert b"grace@other.example" not in client_for(org.users.fr_agent).get(open_day.get_absolute_url()).content


def test_guests_take_places(org, open_day):
    g1 = services.register_guest(open_day, email="a@x.example", name="A")
    g2 = services.register_guest(open_day, email="b@x.example", name="B")
    services.register_for_gathering(open_day, actor=org.users.fr_cm)
    services.confirm_guest(services.guest_token(g1))
    with pytest.raises(InvalidCommunityData, match="full"):
        services.confirm_guest(services.guest_token(g2))
    reg = services.register_for_gathering(open_day, actor=org.users.es_agent)
    assert reg.status == "waitlisted"
    with pytest.raises(PermissionDeniedError):
        services.cancel_guest(g1, actor=org.users.fr_cm)
    services.cancel_guest(g1, actor=org.users.hub_admin)  # the guest's place goes to the waiting list
    reg.refresh_from_db()
    assert reg.status == "going"


def test_guest_bad_input(org, open_day, coming):
    with pytest.raises(PermissionDeniedError):
        services.register_guest(coming, email="a@x.example", name="A")  # not open to guests
    with pytest.raises(InvalidCommunityData):
        services.register_guest(open_day, email="not-an-address", name="A")
    with pytest.raises(InvalidCommunityData, match="not valid"):
        services.confirm_guest("forged-token")
    guest = services.register_guest(open_day, email="a@x.example", name="A")
    token = services.guest_token(guest)
    with pytest.raises(InvalidCommunityData, match="not valid"):
        services.confirm_guest(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))


def test_guest_page_of_a_closed_gathering_is_not_found(org, coming, client):
    assert client.get(reverse("community:guest-register", args=[coming.pk])).status_code == 404


def test_confirmed_guest_gets_reminders(org, open_day, mailoutbox):
    guest = services.register_guest(open_day, email="a@x.example", name="A", language="fr")
    services.confirm_guest(services.guest_token(guest))
    assert reminders.send_due_reminders(open_day.starts_at - dt.timedelta(hours=3)) == 1
    assert mailoutbox[-1].to == ["a@x.example"] and "demain" in mailoutbox[-1].subject


# --- editing a series --------------------------------------------------------------------------------------------


def test_update_this_and_following(org):
    start = dt.datetime(2030, 1, 14, 9, 30, tzinfo=PARIS)
    made = services.create_gathering_series(actor=SYSTEM, unit=org.hub, title="Day", starts_at=start,
                                            ends_at=start + dt.timedelta(hours=2), count=4, place="Paris")
    third_new = made[2].starts_at.astimezone(PARIS).replace(hour=14, minute=0)
    changed = services.update_series(made[2], actor=org.users.hub_admin, starts_at=third_new,
                                     ends_at=third_new + dt.timedelta(hours=3), place="Lyon")
    assert [g.pk for g in changed] == [made[2].pk, made[3].pk]
    after = list(Gathering.objects.filter(series_key=made[0].series_key).order_by("starts_at"))
    assert [g.starts_at.astimezone(PARIS).strftime("%m-%d %H:%M") for g in after] == [
        "01-14 09:30", "03-14 09:30", "05-14 14:00", "07-14 14:00"]  # same local time across summer time
    assert [g.place for g in after] == ["Paris", "Paris", "Lyon", "Lyon"]
    assert all(g.ends_at - g.starts_at == dt.timedelta(hours=3) for g in after[2:])
    with pytest.raises(PermissionDeniedError):
        services.update_series(made[2], actor=org.users.fr_cm, place="Nice")
    with pytest.raises(InvalidCommunityData):
        services.update_series(made[2], actor=org.users.hub_admin, starts_at=third_new,
                               ends_at=third_new - dt.timedelta(hours=1))
    assert Gathering.objects.get(pk=made[3].pk).place == "Lyon"  # nothing changed by the refused edit


def test_series_edit_view(org, client_for):
    start = (timezone.now() + dt.timedelta(days=30)).astimezone(PARIS).replace(hour=9, minute=30, second=0,
                                                                                microsecond=0)
    made = services.create_gathering_series(actor=SYSTEM, unit=org.hub, title="Day", starts_at=start,
                                            ends_at=start + dt.timedelta(hours=2), count=3, place="Paris")
    url = reverse("community:gathering-series-edit", args=[made[1].pk])
    data = {"starts_at": made[1].starts_at.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (made[1].ends_at.astimezone(PARIS)).strftime("%Y-%m-%dT%H:%M"), "place": "Lyon",
            "online_url": "", "capacity": 40}
    assert client_for(org.users.fr_cm).post(url, data).status_code == 403
    page = client_for(org.users.hub_admin).get(made[1].get_absolute_url())
    assert b"series-edit" in page.content
    assert client_for(org.users.hub_admin).post(url, data).status_code == 302
    assert list(Gathering.objects.filter(series_key=made[0].series_key).order_by("starts_at")
                .values_list("place", "capacity")) == [("Paris", 50), ("Lyon", 40), ("Lyon", 40)]


def test_french_page_for_guests(org, client):
    start = timezone.now() + dt.timedelta(days=5)
    g = services.create_gathering(actor=SYSTEM, unit=org.hub, title="Journée", starts_at=start,
                                  ends_at=start + dt.timedelta(hours=1), place="Paris", open_to_guests=True)
    page = client.get(reverse("community:guest-register", args=[g.pk]), HTTP_ACCEPT_LANGUAGE="fr")
    assert "S’inscrire comme invité" in page.content.decode()
