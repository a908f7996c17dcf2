"""Employee advocacy: a library of approved content shared by members to their own linked accounts; shares and
clicks counted per spoke. Services, the permission matrix, the API and the pages."""

import pytest

from dandelion.connectors import sandbox
from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from dandelion.publishing import advocacy, services
from dandelion.publishing.choices import ShareState
from dandelion.publishing.exceptions import InvalidPost, InvalidTransition
from dandelion.publishing.models import AdvocacyShare, ShortLink


@pytest.fixture(autouse=True)
def _fresh_sandbox():
    sandbox.PUBLISHED.clear()  # the sandbox remembers idempotency keys per process
    yield
    sandbox.PUBLISHED.clear()


def _item(pub, **kw):
    kw = {
        "title": "Summer sale",
        "url": "https://shop.example.com/summer",
        "suggested_texts": {"fr": "Les soldes d'été !", "es": "¡Rebajas de verano!"},
    } | kw
    return advocacy.create_item(actor=pub.users.hub_admin, unit=pub.hub, **kw)


def _account(user, unit, handle, external_id, network="bluesky"):
    return advocacy.register_personal_account(
        actor=user, unit=unit, network=network, handle=handle, external_id=external_id
    )


def test_share_with_suggested_text_short_links_and_counts_per_spoke(pub, client):
    item = _item(pub)
    fr = _account(pub.users.fr_agent, pub.france, "@camille.perso", "did:fr-1")
    es = _account(pub.users.es_agent, pub.spain, "@lucia.perso", "did:es-1")
    fr_share = advocacy.share_item(item, actor=pub.users.fr_agent, account=fr)  # suggested text, in French
    assert fr_share.state == ShareState.SENT and fr_share.text.startswith("Les soldes d'été !")
    es_share = advocacy.share_item(item, actor=pub.users.es_agent, account=es, text="¡Mirad esto! ")  # edited
    assert es_share.text.startswith("¡Mirad esto!") and item.url in es_share.text
    sent = sandbox.PUBLISHED[es_share.external_id][2].text
    link = ShortLink.objects.get(share=es_share)
    assert (
        link.path in sent
        and "utm_medium=advocacy" in link.target_url
        and "utm_source=bluesky" in link.target_url
    )
    browser = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    for n in range(3):  # three readers
        assert client.get(link.path, HTTP_USER_AGENT=browser, REMOTE_ADDR=f"203.0.113.{n}").status_code == 302
    client.get(ShortLink.objects.get(share=fr_share).path, HTTP_USER_AGENT=browser)
    rows = {r.unit_name: (r.shares, r.clicks) for r in advocacy.item_stats(item, actor=pub.users.hub_admin)}
    assert rows == {"Spain": (1, 3), "France": (1, 1)}
    with pytest.raises(InvalidTransition):  # once per item and account
        advocacy.share_item(item, actor=pub.users.es_agent, account=es)
    assert AuditEvent.objects.filter(action="publishing.advocacy.share").count() == 2
    assert AuditEvent.objects.filter(action="publishing.advocacy.item_create").count() == 1


def test_permission_matrix(pub):
    item = _item(pub)
    spain_item = advocacy.create_item(
        actor=pub.users.es_admin, unit=pub.spain, title="Madrid", suggested_texts={"es": "Hola Madrid"}
    )
    with pytest.raises(PermissionDeniedError):  # a community manager does not curate the library
        advocacy.create_item(actor=pub.users.fr_cm, unit=pub.france, title="x", suggested_texts={"fr": "x"})
    with pytest.raises(PermissionDeniedError):  # another subtree
        advocacy.create_item(
            actor=pub.users.es_admin, unit=pub.france, title="x", suggested_texts={"fr": "x"}
        )
    with pytest.raises(PermissionDeniedError):  # an external moderator is not a member who shares
        _account(pub.users.moderator, pub.vendor, "@mod", "did:mod")
    with pytest.raises(PermissionDeniedError):  # not their unit
        _account(pub.users.fr_agent, pub.spain, "@x", "did:x")
    fr = _account(pub.users.fr_agent, pub.france, "@camille.perso", "did:fr-1")
    assert set(advocacy.library_for(pub.users.fr_agent)) == {item}  # the hub's, not Spain's
    assert set(advocacy.library_for(pub.users.es_agent)) == {item, spain_item}
    assert not advocacy.library_for(pub.users.nobody).exists()
    with pytest.raises(InvalidPost):  # Spain's item is not in France's library
        advocacy.share_item(spain_item, actor=pub.users.fr_agent, account=fr)
    with pytest.raises(InvalidPost):  # only through one's own account
        advocacy.share_item(item, actor=pub.users.fr_cm, account=fr)
    with pytest.raises(PermissionDeniedError):  # counts: those who view the item's unit
        advocacy.item_stats(item, actor=pub.users.fr_admin)
    assert advocacy.item_stats(spain_item, actor=pub.users.es_admin) == []


def test_bad_input(pub):
    with pytest.raises(InvalidPost) as err:
        advocacy.create_item(actor=pub.users.hub_admin, unit=pub.hub, title="x", suggested_texts={})
    assert err.value.field == "suggested_texts"
    draft = services.create_post(
        actor=pub.users.fr_cm, unit=pub.france, text="Brouillon", accounts=[pub.fr_account]
    )
    with pytest.raises(InvalidPost) as err:  # not approved
        advocacy.create_item(actor=pub.users.hub_admin, unit=pub.hub, post=draft)
    assert err.value.field == "post"
    item = _item(pub)
    acc = _account(pub.users.fr_agent, pub.france, "@c", "did:c")
    with pytest.raises(InvalidPost) as err:
        _account(pub.users.fr_cm, pub.france, "@c2", "did:c")  # the same network account twice
    with pytest.raises(InvalidPost) as err:  # too long for Bluesky (300 graphemes)
        advocacy.share_item(item, actor=pub.users.fr_agent, account=acc, text="é" * 400)
    assert err.value.field == "text" and "bluesky" in err.value.message
    assert not AdvocacyShare.objects.exists() and not ShortLink.objects.exists()  # nothing half-saved


def test_an_approved_post_enters_the_library(pub):
    post = services.create_post(
        actor=pub.users.fr_cm, unit=pub.france, text="Nouveau magasin à Lyon", accounts=[pub.fr_account]
    )
    post = services.submit_post(post, actor=pub.users.fr_cm)
    item = advocacy.create_item(actor=pub.users.fr_admin, unit=pub.france, post=post)
    assert item.suggested_texts == {"fr": "Nouveau magasin à Lyon"} and item.title


def test_api(pub, api_for):
    item_id = (
        api_for(pub.users.hub_admin)
        .post(
            "/api/v1/advocacy-items/",
            {
                "unit": pub.hub.pk,
                "title": "Summer",
                "url": "https://shop.example.com/",
                "suggested_texts": {"fr": "Soldes !"},
            },
            format="json",
        )
        .json()["id"]
    )
    assert (
        api_for(pub.users.fr_agent)
        .post(
            "/api/v1/advocacy-items/",
            {"unit": pub.france.pk, "title": "x", "suggested_texts": {"fr": "x"}},
            format="json",
        )
        .status_code
        == 403
    )
    agent = api_for(pub.users.fr_agent)
    resp = agent.post(
        "/api/v1/personal-accounts/",
        {"unit": pub.france.pk, "network": "bluesky", "handle": "@camille", "external_id": "did:1"},
        format="json",
    )
    assert resp.status_code == 201, resp.content
    account_id = resp.json()["id"]
    assert [r["id"] for r in agent.get("/api/v1/advocacy-items/").json()["results"]] == [item_id]
    assert api_for(pub.users.moderator).get(f"/api/v1/advocacy-items/{item_id}/").status_code == 404
    other = api_for(pub.users.fr_cm)
    assert (
        other.post(
            f"/api/v1/advocacy-items/{item_id}/share/", {"account": account_id}, format="json"
        ).status_code
        == 400
    )  # not their account
    resp = agent.post(
        f"/api/v1/advocacy-items/{item_id}/share/", {"account": account_id, "text": "Regardez"}, format="json"
    )
    assert resp.status_code == 201 and resp.json()["state"] == "sent"
    assert agent.get(f"/api/v1/advocacy-items/{item_id}/stats/").status_code == 403
    stats = api_for(pub.users.hub_admin).get(f"/api/v1/advocacy-items/{item_id}/stats/").json()
    assert stats == [{"unit_id": pub.france.pk, "unit_name": "France", "shares": 1, "clicks": 0}]
    assert (
        api_for(pub.users.hub_admin)
        .patch(f"/api/v1/advocacy-items/{item_id}/", {"is_active": False}, format="json")
        .status_code
        == 200
    )
    assert agent.get("/api/v1/advocacy-items/").json()["results"] == []


def test_pages(pub, client_for):
    item = _item(pub)
    agent = client_for(pub.users.fr_agent)
    page = agent.get("/publishing/advocacy/").content.decode()
    assert "Summer sale" in page and "No account linked yet" in page
    resp = agent.post(
        "/publishing/advocacy/",
        {
            "add_account": "1",
            "unit": pub.france.pk,
            "network": "bluesky",
            "handle": "@camille",
            "external_id": "did:1",
        },
    )
    assert resp.status_code == 302
    account = pub.users.fr_agent.personal_accounts.get()
    page = agent.get(item.get_absolute_url()).content.decode()
    assert "share-form" in page and "Les soldes" in page and "advocacy-stats" not in page
    resp = agent.post(item.get_absolute_url(), {"account": account.pk, "text": "À voir"})
    assert resp.status_code == 302 and AdvocacyShare.objects.get().text.startswith("À voir")
    hub_page = client_for(pub.users.hub_admin).get(item.get_absolute_url()).content.decode()
    assert "advocacy-stats" in hub_page and "France" in hub_page
    assert client_for(pub.users.moderator).get("/publishing/advocacy/").status_code == 403
    assert client_for(pub.users.moderator).get(item.get_absolute_url()).status_code == 404
    resp = client_for(pub.users.hub_admin).post(
        "/publishing/advocacy/",
        {
            "add_item": "1",
            "unit": pub.hub.pk,
            "title": "Rentrée",
            "url": "",
            "language": "fr",
            "text": "C'est la rentrée",
        },
    )
    assert resp.status_code == 302


def test_demo_seeds_the_library(db):
    from dandelion.core.demo import seed_demo
    from dandelion.publishing.models import AdvocacyItem

    seed_demo()
    item = AdvocacyItem.objects.get(title__endswith="Our summer collection")
    assert item.shares.filter(state=ShareState.SENT).count() == 2
    seed_demo()  # again: nothing added
    assert AdvocacyItem.objects.count() == 1
