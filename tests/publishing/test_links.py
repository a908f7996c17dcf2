"""UTM tagging and short links: the pure rewriting, the send path, the redirect that counts clicks, the post's
page and API; and the published post's replies in the inbox."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from dandelion.connectors import fake
from dandelion.connectors.base import InboundAuthor, InboundEvent
from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from dandelion.publishing import campaigns, clicks, links, services
from dandelion.publishing.choices import PostState
from dandelion.publishing.exceptions import InvalidRule
from dandelion.publishing.models import Post, ShortLink, ShortLinkVisitor

pytestmark = pytest.mark.django_db


# --- pure -----------------------------------------------------------------------------------------------------------


def test_find_links_leaves_trailing_punctuation_out():
    text = "Voir https://example.com/a?x=1. Et (http://b.org/c), fin https://"
    assert [text[s:e] for s, e in links.find_links(text)] == ["https://example.com/a?x=1", "http://b.org/c"]


def test_tag_url_adds_without_overriding():
    url = links.tag_url("https://example.com/a?x=1&utm_source=mail#top", {"utm_source": "fb", "utm_medium": "social"})
    assert url == "https://example.com/a?x=1&utm_source=mail&utm_medium=social#top"
    assert links.tag_url("https://example.com/", {}) == "https://example.com/"


def test_utm_for_merges_campaign_over_unit_and_fills_placeholders():
    unit = {"utm_source": "{network}", "utm_medium": "social", "utm_content": "{account}"}
    params = links.utm_for(unit, {"utm_medium": "paid"}, "Été 2030", network="bluesky", account="@brand_fr")
    assert params == {"utm_source": "bluesky", "utm_medium": "paid", "utm_content": "brand_fr",
                      "utm_campaign": "ete-2030"}
    assert links.utm_for({}, None, "Été 2030", network="x", account="@a") == {}  # nothing asked: no tagging


def test_clean_utm_refuses_unknown_keys_and_long_values():
    assert links.clean_utm({"utm_source": " fb ", "utm_term": ""}) == {"utm_source": "fb"}
    with pytest.raises(ValueError, match="Unknown UTM parameter"):
        links.clean_utm({"source": "fb"})
    with pytest.raises(ValueError, match="at most 200"):
        links.clean_utm({"utm_source": "x" * 201})


# --- the send path and the redirect -------------------------------------------------------------------------------


BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _published(pub, text):
    post = services.create_post(actor=pub.users.fr_cm, unit=pub.france, text=text, accounts=[pub.fr_account])
    post = services.submit_post(post, actor=pub.users.fr_cm)
    services.schedule_post(post, actor=pub.users.fr_cm)
    assert services.send_due(worker="w")["sent"] == 1
    post.refresh_from_db()
    assert post.state == PostState.PUBLISHED
    from django_tasks_db.models import DBTaskResult

    from dandelion.publishing import jobs

    for queued in DBTaskResult.objects.filter(task_path__endswith=".record_sent_in_inbox"):  # as a worker would
        jobs.record_sent_in_inbox.call(*queued.args_kwargs["args"])
    return post


def test_settings_are_permission_checked_validated_and_audited(pub):
    with pytest.raises(PermissionDeniedError):
        services.update_settings(pub.france, actor=pub.users.fr_cm, shorten_links=True)  # a community manager
    with pytest.raises(InvalidRule) as err:
        services.update_settings(pub.france, actor=pub.users.fr_admin, utm={"bogus": "1"})
    assert err.value.field == "utm"
    conf = services.update_settings(pub.france, actor=pub.users.fr_admin, utm={"utm_medium": "social"})
    assert conf.utm == {"utm_medium": "social"}
    assert AuditEvent.objects.filter(action="publishing.settings.update").count() == 1
    assert links.settings_for(pub.france).pk == conf.pk and links.settings_for(pub.hub) is None


def test_links_tagged_at_send_time_only(pub):
    services.update_settings(pub.hub, actor=pub.users.hub_admin, utm={"utm_source": "{network}",
                                                                      "utm_medium": "social"})
    post = _published(pub, "Notre offre : https://shop.example.com/ete?ref=1.")
    sent = fake.STORE.published[0].post.text
    assert sent == "Notre offre : https://shop.example.com/ete?ref=1&utm_source=facebook&utm_medium=social."
    assert Post.objects.get(pk=post.pk).text == "Notre offre : https://shop.example.com/ete?ref=1."  # as approved
    assert not ShortLink.objects.exists()


def test_short_links_count_clicks_and_show_on_the_post(pub, client, client_for, api_for):
    services.update_settings(pub.france, actor=pub.users.fr_admin, utm={"utm_medium": "social"},
                             shorten_links=True)
    post = _published(pub, "Lisez https://blog.example.com/a et https://blog.example.com/a !")
    link = ShortLink.objects.get()  # the same target twice: one link
    assert link.target_url == "https://blog.example.com/a?utm_medium=social" and link.post == post
    assert fake.STORE.published[0].post.text == (
        f"Lisez {settings.DANDELION_BASE_URL}/l/{link.code} et {settings.DANDELION_BASE_URL}/l/{link.code} !")
    # a retried send (same variant) reuses the link
    variant = post.variants.get()
    assert links.prepare_text(variant, variant.effective_text).count(link.code) == 2
    assert ShortLink.objects.count() == 1

    r = client.get(f"/l/{link.code}", HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.1")  # anonymous readers
    assert r.status_code == 302 and r["Location"] == link.target_url and r["Cache-Control"] == "no-store"
    client.get(f"/l/{link.code}", HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.2")
    client.head(f"/l/{link.code}", HTTP_USER_AGENT=BROWSER)  # a HEAD (link previews) is not a click
    assert client.get("/l/nosuchcode").status_code == 404
    link.refresh_from_db()
    assert link.clicks == 2 and link.last_click_at is not None

    page = client_for(pub.users.fr_cm).get(post.get_absolute_url()).content.decode()
    assert 'data-clicks="2"' in page and link.target_url in page
    r = api_for(pub.users.fr_cm).get(f"/api/v1/posts/{post.pk}/links/")
    assert r.status_code == 200 and r.json()[0]["clicks"] == 2
    assert api_for(pub.users.es_agent).get(f"/api/v1/posts/{post.pk}/links/").status_code == 404  # not their post


def test_campaign_utm_names_the_campaign(pub):
    now = timezone.now()
    campaign = campaigns.create_campaign(
        actor=pub.users.hub_admin, unit=pub.hub, name="Summer Sale", master_text="https://shop.example.com",
        starts_local=(now - dt.timedelta(hours=1)).replace(tzinfo=None),
        ends_local=(now + dt.timedelta(days=2)).replace(tzinfo=None), spokes=[pub.france],
        utm={"utm_medium": "social"})
    with pytest.raises(InvalidRule):
        campaigns.create_campaign(actor=pub.users.hub_admin, unit=pub.hub, name="Bad", master_text="x",
                                  starts_local=now.replace(tzinfo=None),
                                  ends_local=(now + dt.timedelta(days=1)).replace(tzinfo=None), spokes=[],
                                  utm={"nope": "1"})
    post = services.create_post(actor=pub.users.fr_cm, unit=pub.france, text="Go https://shop.example.com",
                                accounts=[pub.fr_account], campaign=campaign)
    services.submit_post(post, actor=pub.users.fr_cm)
    services.schedule_post(post, actor=pub.users.fr_cm)
    services.send_due(worker="w")
    assert fake.STORE.published[0].post.text == (
        "Go https://shop.example.com?utm_medium=social&utm_campaign=summer-sale")


# --- replies in the inbox ------------------------------------------------------------------------------------------


def test_replies_to_the_published_post_are_linked(pub, client_for):
    from dandelion.inbox import pipeline

    post = _published(pub, "Bonjour à tous")
    external_id = post.variants.get().external_id
    page = client_for(pub.users.fr_cm).get(post.get_absolute_url()).content.decode()
    assert "No reply yet." in page
    author = InboundAuthor(external_id="cust-1", name="Camille Client", handle="@camille")
    pipeline.ingest_events(pub.fr_account, [
        InboundEvent(external_id="c-1", kind="comment", text="Super !", created_at=timezone.now(), author=author,
                     in_reply_to=external_id),
        InboundEvent(external_id="c-2", kind="comment", text="Sans rapport", created_at=timezone.now(),
                     author=author)])
    rows = services.post_conversations(post, pub.users.fr_cm)
    assert len(rows) == 1
    assert [m.external_id for m in rows[0].messages.all()] == [external_id, "c-1"]  # the brand's post is the root
    page = client_for(pub.users.fr_cm).get(post.get_absolute_url()).content.decode()
    assert rows[0].get_absolute_url() in page and "Camille Client" in page
    assert services.post_conversations(post, pub.users.es_agent) == []  # fails closed: not their conversations


def test_bot_clicks_are_filtered(pub, client):
    services.update_settings(pub.france, actor=pub.users.fr_admin, shorten_links=True,
                             short_link_base="https://dnd.example")
    _published(pub, "Lisez https://blog.example.com/b")
    link = ShortLink.objects.get()
    assert fake.STORE.published[0].post.text == f"Lisez https://dnd.example/l/{link.code}"  # the unit's base
    url = f"/l/{link.code}"
    for agent in ("", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
                  "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", "curl/8.5.0",
                  "http.rb/5.1.1 (Mastodon/4.2.0; +https://mastodon.example/)", "Googlebot/2.1"):
        assert client.get(url, HTTP_USER_AGENT=agent).status_code == 302  # redirected, not counted
    for _i in range(3):  # one reader clicking three times within the window: one click
        client.get(url, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="198.51.100.7")
    client.get(url, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="198.51.100.8")  # another reader
    link.refresh_from_db()
    assert link.clicks == 2
    later = timezone.now() + clicks.WINDOW + dt.timedelta(seconds=1)  # after the window it counts again
    key = clicks.client_key("198.51.100.7", BROWSER)
    assert services.follow_short_link(link.code, user_agent=BROWSER, client=key, now=later)
    assert services.follow_short_link(link.code, user_agent=BROWSER, client=key, now=later) == link.target_url
    link.refresh_from_db()
    assert link.clicks == 3
    assert not ShortLinkVisitor.objects.filter(client__contains="198.51").exists()  # no address stored
    assert clicks.purge_visitors(later + clicks.WINDOW * 2) == 2


def test_settings_api(pub, api_for):
    url = f"/api/v1/publishing-settings/{pub.france.pk}/"
    assert api_for(pub.users.fr_cm).put(url, {"utm": {"utm_medium": "social"}}, format="json").status_code == 403
    assert api_for(pub.users.es_admin).put(url, {"utm": {}}, format="json").status_code == 404  # not their unit
    admin = api_for(pub.users.fr_admin)
    resp = admin.put(url, {"utm": {"utm_medium": "social"}, "shorten_links": True, "short_link_base":
                           "https://dnd.example", "slots": [{"weekday": 0, "time": "09:00"}],
                           "timezone": "Europe/Paris"}, format="json")
    assert resp.status_code == 200, resp.content
    got = admin.get(url).json()
    assert got["utm"] == {"utm_medium": "social"} and got["slots"] == [{"weekday": 0, "time": "09:00"}]
    assert got["short_link_base"] == "https://dnd.example" and got["inherited_from"] == pub.france.pk
    assert api_for(pub.users.fr_cm).get(url).status_code == 200  # readable by those who view the unit
    assert api_for(pub.users.es_agent).get(url).status_code == 404
    spain = api_for(pub.users.es_admin).get(f"/api/v1/publishing-settings/{pub.spain.pk}/").json()
    assert spain["inherited_from"] is None and spain["utm"] == {}
    bad = admin.patch(url, {"utm": {"nope": "1"}}, format="json")
    assert bad.status_code == 400 and "utm" in bad.content.decode()
    bad = admin.patch(url, {"short_link_base": "ftp://x"}, format="json")
    assert bad.status_code == 400
    assert AuditEvent.objects.filter(action="publishing.settings.update").count() == 1
