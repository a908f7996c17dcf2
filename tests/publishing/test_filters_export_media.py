"""Calendar and list filters by unit, account and campaign; the CSV export with the current filters; images of a
post served only to those who may see the post."""

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone
from PIL import Image

from dandelion.publishing import campaigns, media, services


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (10, 120, 40)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def posts(pub):
    when = (
        (timezone.now() + dt.timedelta(days=2)).astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    )
    local = when.astimezone(dt.timezone(dt.timedelta(0))).replace(tzinfo=None)
    campaign = campaigns.create_campaign(
        actor=pub.users.hub_admin,
        unit=pub.hub,
        name="Summer",
        master_text="Summer",
        starts_local=(timezone.now() + dt.timedelta(hours=1)).replace(tzinfo=None),
        ends_local=(timezone.now() + dt.timedelta(days=10)).replace(tzinfo=None),
        spokes=[pub.france, pub.spain],
    )
    fb = services.create_post(
        actor=pub.users.fr_cm,
        unit=pub.france,
        title="On facebook",
        text="=HYPERLINK(1)",
        accounts=[pub.fr_account],
        scheduled_local=local,
    )
    x = services.create_post(
        actor=pub.users.fr_cm,
        unit=pub.france,
        title="On x",
        text="Court",
        accounts=[pub.fr_short],
        scheduled_local=local,
        campaign=campaign,
    )
    es = services.create_post(
        actor=pub.users.es_admin,
        unit=pub.spain,
        title="En España",
        text="Hola",
        accounts=[pub.es_account],
        scheduled_local=local,
    )
    return {"fb": fb, "x": x, "es": es, "campaign": campaign, "when": when}


def _titles(content: str, *names) -> set:
    return {n for n in names if n in content}


def test_calendar_and_list_filters(pub, posts, client_for):
    hub = client_for(pub.users.hub_admin)
    all_titles = ("On facebook", "On x", "En España")
    month = f"?month={posts['when']:%Y-%m}"
    week = f"?week={posts['when'].date().isoformat()}"
    for base in ("/publishing/calendar/" + month, "/publishing/calendar/week/" + week, "/publishing/?x=1"):
        assert _titles(hub.get(base).content.decode(), *all_titles) == set(all_titles)
        page = hub.get(f"{base}&unit={pub.france.pk}").content.decode()
        assert _titles(page, *all_titles) == {"On facebook", "On x"}
        page = hub.get(f"{base}&unit={pub.europe.pk}").content.decode()  # a unit covers its subtree
        assert _titles(page, *all_titles) == set(all_titles)
        page = hub.get(f"{base}&account={pub.fr_short.pk}").content.decode()
        assert _titles(page, *all_titles) == {"On x"}
        page = hub.get(f"{base}&campaign={posts['campaign'].pk}").content.decode()
        assert _titles(page, *all_titles) == {"On x"}
    # a unit the viewer does not see matches nothing (never widens the scope)
    page = (
        client_for(pub.users.fr_cm).get(f"/publishing/calendar/{month}&unit={pub.spain.pk}").content.decode()
    )
    assert _titles(page, *all_titles) == set()
    page = client_for(pub.users.fr_cm).get(f"/publishing/calendar/{month}").content.decode()
    assert _titles(page, *all_titles) == {"On facebook", "On x"}


def test_csv_export_with_the_current_filters(pub, posts, client_for):
    resp = client_for(pub.users.hub_admin).get(f"/publishing/export.csv?unit={pub.france.pk}")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert {r["title"] for r in rows} == {"On facebook", "On x"}
    fb = next(r for r in rows if r["title"] == "On facebook")
    assert fb["text"] == "'=HYPERLINK(1)"  # never a formula in a spreadsheet
    assert fb["accounts"] == "facebook:@brand_fr" and fb["state"] == "draft" and fb["unit"] == "France"
    x = next(r for r in rows if r["title"] == "On x")
    assert x["campaign"] == "Summer"
    rows = list(
        csv.DictReader(
            io.StringIO(
                client_for(pub.users.es_admin).get("/publishing/export.csv").content.decode("utf-8-sig")
            )
        )
    )
    assert {r["title"] for r in rows} == {"En España"}  # only what the viewer sees
    assert client_for(pub.users.nobody).get("/publishing/export.csv").status_code == 403
    page = client_for(pub.users.hub_admin).get(f"/publishing/?unit={pub.france.pk}").content.decode()
    assert f"export.csv?unit={pub.france.pk}" in page


def test_media_served_only_to_those_who_see_the_post(pub, posts, client_for):
    item = media.add_media(posts["fb"], actor=pub.users.fr_cm, data=_png(), name="a.png", alt_text="A field")
    for url in (f"/publishing/media/{item.pk}/file/", f"/publishing/media/{item.pk}/thumb/"):
        resp = client_for(pub.users.fr_cm).get(url)
        assert resp.status_code == 200 and resp["Cache-Control"].startswith("private")
        assert b"".join(resp.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
        assert client_for(pub.users.es_admin).get(url).status_code == 404  # another spoke's draft
        assert client_for(pub.users.nobody).get(url).status_code == 404
    assert client_for(pub.users.hub_admin).get(f"/publishing/media/{item.pk}/file/").status_code == 200
    assert (
        f"/publishing/media/{item.pk}/thumb/"
        in client_for(pub.users.fr_cm).get(posts["fb"].get_absolute_url()).content.decode()
    )
    assert client_for(pub.users.fr_cm).get("/publishing/media/999999/file/").status_code == 404
