"""The Mastodon connector, through Mastodon.py, against a MOCK Mastodon instance (``mastodon_mock.py``: no real
Mastodon can run on the test machines; ``test_mastodon_contract.py`` checks the mock's shapes against a real
server's recorded answers). The connector alone here; end to end through Dandelion in ``test_mastodon_inbox.py``."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from tests.connectors.mastodon_mock import mastodon_mock  # noqa: F401 - the fixture

from dandelion.connectors import oauth as shared_oauth
from dandelion.connectors import registry
from dandelion.connectors.base import AccountRef, Capability, OutboundPost, OutboundReply, poll_with_cursor
from dandelion.connectors.errors import ConfigError, ConnectorError
from dandelion.connectors.mastodon import client as clients
from dandelion.connectors.mastodon import oauth
from dandelion.connectors.mastodon.connector import MastodonConnector, mastodon_length

_ids = iter(range(5000, 10_000_000))


@pytest.fixture(autouse=True)
def _fresh_clients():
    clients.forget()
    yield
    clients.forget()


@pytest.fixture
def brand(mastodon_mock):
    account = mastodon_mock.account("acme", "Acme", followers=1200)
    account.token = mastodon_mock.token_for(account)
    return account


def ref_for(mock, account, token=None, **config) -> AccountRef:
    return AccountRef(id=next(_ids), network="mastodon", external_id=account.id, handle=f"{account.username}@"
                      f"{mock.host}", credentials={"access_token": token or account.token},
                      config={"instance": mock.url, **config}, connector="mastodon")


def connector() -> MastodonConnector:
    found = registry.get("mastodon")
    assert isinstance(found, MastodonConnector)
    return found


# --- inbound ---------------------------------------------------------------------------------------------------


def test_mentions_comments_and_dms_arrive_once_oldest_first(mastodon_mock, brand):
    mock, mastodon = mastodon_mock, connector()
    camille = mock.account("camille", "Camille", followers=42)
    old = mock.post(camille, "@acme un ancien message")  # before the account was connected
    ref = ref_for(mock, brand, backfill=0)
    first = poll_with_cursor(mastodon, ref, None)
    assert first.events == [] and first.cursor["own_id"] == brand.id and first.cursor["min_id"]

    mention = mock.post(camille, "@acme mon colis n'est pas arrivé")
    own = mock.post(brand, "Nouvelle collection en boutique")
    comment = mock.post(camille, "@acme jolie ! quand en ligne ?", in_reply_to=own["id"])
    dm = mock.post(camille, "@acme mon numéro de commande est 1234", visibility="direct")
    other = mock.account("bruno")
    elsewhere = mock.post(other, "@camille ça va ?")
    in_thread = mock.post(camille, "@bruno @acme regardez", in_reply_to=elsewhere["id"])
    mock.post(camille, "un post sans rapport")

    result = poll_with_cursor(mastodon, ref, first.cursor)
    assert result.rejected == [] and not result.more
    by_id = {e.external_id: e for e in result.events}
    assert set(by_id) == {mention["id"], comment["id"], dm["id"], in_thread["id"]}
    assert old["id"] not in by_id
    assert by_id[mention["id"]].kind == "mention" and by_id[mention["id"]].in_reply_to is None
    assert by_id[mention["id"]].text == "@acme mon colis n'est pas arrivé"  # HTML content as text
    assert by_id[mention["id"]].author.external_id == camille.id
    assert by_id[mention["id"]].author.handle == "camille" and by_id[mention["id"]].author.followers == 42
    assert by_id[comment["id"]].kind == "comment" and by_id[comment["id"]].in_reply_to == own["id"]
    assert by_id[dm["id"]].kind == "dm" and by_id[dm["id"]].raw["visibility"] == "direct"
    assert by_id[in_thread["id"]].kind == "reply" and by_id[in_thread["id"]].in_reply_to == elsewhere["id"]
    assert [e.created_at for e in result.events] == sorted(e.created_at for e in result.events)

    again = poll_with_cursor(mastodon, ref, result.cursor)
    assert again.events == []  # nothing twice
    clients.forget()  # a worker restart: a new client, the stored cursor still holds
    assert poll_with_cursor(mastodon, ref, result.cursor).events == []


def test_first_poll_backfills_the_newest_mentions(mastodon_mock, brand):
    mock = mastodon_mock
    fan = mock.account("fan")
    posted = [mock.post(fan, f"@acme message {i}") for i in range(5)]
    result = poll_with_cursor(connector(), ref_for(mock, brand, backfill=3), None)
    assert [e.external_id for e in result.events] == [p["id"] for p in posted[-3:]]


def test_a_backlog_is_walked_in_pages_across_polls_without_loss(mastodon_mock, brand):
    mock, mastodon = mastodon_mock, connector()
    ref = ref_for(mock, brand, page_size=5, max_pages=2, backfill=0, poll_conversations=False)
    cursor = dict(poll_with_cursor(mastodon, ref, None).cursor)
    fan = mock.account("fan")
    posted = [mock.post(fan, f"@acme question {i}")["id"] for i in range(23)]
    seen, polls = [], 0
    while True:
        result = poll_with_cursor(mastodon, ref, cursor)
        polls += 1
        seen += [e.external_id for e in result.events]
        cursor = dict(result.cursor)
        if not result.more:
            break
    assert seen == posted and polls == 3  # 10 + 10 + 3, oldest first, none lost or repeated


def test_dms_read_early_through_conversations_are_not_read_again_from_the_backlog(mastodon_mock, brand):
    mock, mastodon = mastodon_mock, connector()
    ref = ref_for(mock, brand, page_size=5, max_pages=1, backfill=0)
    cursor = dict(poll_with_cursor(mastodon, ref, None).cursor)
    fans = [mock.account(f"fan{i}") for i in range(3)]
    posted = [mock.post(fans[i % 3], f"@acme message {i}", visibility="direct" if i % 4 == 0 else "public")["id"]
              for i in range(17)]
    seen = []
    while True:
        result = poll_with_cursor(mastodon, ref, cursor)
        seen += [e.external_id for e in result.events]
        cursor = dict(result.cursor)
        if not result.more:
            break
    assert len(seen) == len(set(seen)) and set(seen) == set(posted)
    assert poll_with_cursor(mastodon, ref, cursor).events == []


def test_a_dm_filtered_out_of_notifications_still_arrives_through_conversations(mastodon_mock, brand):
    mock, mastodon = mastodon_mock, connector()
    ref = ref_for(mock, brand)
    cursor = poll_with_cursor(mastodon, ref, None).cursor
    stranger = mock.account("stranger")
    dm = mock.post(stranger, "@acme bonjour, en privé", visibility="direct")
    with mock.lock:  # Mastodon 4.3's notification policy files private mentions from strangers as a request
        for key in [k for k, n in mock.notifications.items() if n["status"] == dm["id"]]:
            del mock.notifications[key]
    result = poll_with_cursor(mastodon, ref, cursor)
    assert [(e.external_id, e.kind, e.raw["source"]) for e in result.events] == [(dm["id"], "dm", "conversation")]
    assert poll_with_cursor(mastodon, ref, result.cursor).events == []


def test_hostile_statuses_are_rejected_alone():
    make = MastodonConnector.event_from_status
    from dandelion.connectors.base import utcnow

    now = utcnow()
    good = {"id": "1", "content": "<p>hi <script>alert(1)</script><b>there</b></p>", "visibility": "public",
            "created_at": "2099-01-01T00:00:00.000Z", "in_reply_to_id": None, "in_reply_to_account_id": None,
            "spoiler_text": "", "account": {"id": "9", "acct": "x@remote.example", "display_name": "X"}}
    event = make(good, own_id="2", now=now)
    assert event.text == "hi there" and event.created_at == now  # scripts dropped, a lying clock clamped
    huge = make({**good, "content": "a\x00b\ud800" + "z" * 50_000}, own_id="2", now=now)
    assert len(huge.text) <= 3000 and "\x00" not in huge.text
    for bad in ({**good, "id": None}, {**good, "content": 42}, {**good, "account": {}},
                {**good, "visibility": "secret"}, {**good, "account": {"id": True}}):
        with pytest.raises(ValueError):
            make(bad, own_id="2", now=now)


def test_a_broken_status_in_a_page_is_quarantined_and_the_rest_kept(mastodon_mock, brand):
    mock, mastodon = mastodon_mock, connector()
    ref = ref_for(mock, brand)
    cursor = poll_with_cursor(mastodon, ref, None).cursor
    fan = mock.account("fan")
    broken = mock.post(fan, "@acme un")
    fine = mock.post(fan, "@acme deux")
    with mock.lock:
        mock.statuses[broken["id"]]["visibility"] = "galactic"  # not a visibility Mastodon knows
    result = poll_with_cursor(mastodon, ref, cursor)
    assert [e.external_id for e in result.events] == [fine["id"]]
    assert len(result.rejected) == 1 and "galactic" in result.rejected[0].error
    assert result.cursor["min_id"] != cursor["min_id"]  # the walk moved past it: not fetched again and again


# --- outbound --------------------------------------------------------------------------------------------------


def test_replies_thread_and_keep_visibility_and_a_dm_is_answered_directly(mastodon_mock, brand):
    mock, mastodon = mastodon_mock, connector()
    ref = ref_for(mock, brand)
    camille, bruno = mock.account("camille"), mock.account("bruno")
    public = mock.post(camille, "@acme une question")
    private = mock.post(camille, "@acme pour mes abonnés", visibility="private")
    dm = mock.post(camille, "@acme @bruno entre nous", visibility="direct")

    sent = mastodon.send_reply(ref, OutboundReply(text="Bonjour, nous regardons.", in_reply_to=public["id"]))
    stored = mock.statuses[sent.external_id]
    assert stored["in_reply_to_id"] == public["id"] and stored["visibility"] == "public"
    assert stored["text"] == "@camille Bonjour, nous regardons." and sent.url.endswith(sent.external_id)
    assert mock.statuses[mastodon.send_reply(ref, OutboundReply(
        text="@camille merci", in_reply_to=private["id"])).external_id]["visibility"] == "private"

    answer = mastodon.send_reply(ref, OutboundReply(text="Voici votre suivi", in_reply_to=dm["id"], kind="dm",
                                                    recipient_external_id=camille.id))
    stored = mock.statuses[answer.external_id]
    assert stored["visibility"] == "direct" and stored["in_reply_to_id"] == dm["id"]
    assert set(stored["mentions"]) == {camille.id, bruno.id}  # a direct status reaches only those it mentions
    # a DM with nothing to answer (a new conversation): direct, to the recipient
    fresh = mastodon.send_reply(ref, OutboundReply(text="Un suivi", kind="dm", recipient_external_id=bruno.id))
    assert mock.statuses[fresh.external_id]["visibility"] == "direct"
    assert mock.statuses[fresh.external_id]["mentions"] == [bruno.id]


def test_a_retried_send_with_the_same_key_posts_once(mastodon_mock, brand):
    mock, mastodon = mastodon_mock, connector()
    ref = ref_for(mock, brand)
    question = mock.post(mock.account("camille"), "@acme ?")
    reply = OutboundReply(text="Réponse", in_reply_to=question["id"], idempotency_key="dandelion-message-7")
    assert mastodon.send_reply(ref, reply).external_id == mastodon.send_reply(ref, reply).external_id
    assert sum(1 for s in mock.statuses.values() if s["account"] == brand.id) == 1


def test_length_is_counted_as_mastodon_counts_it(mastodon_mock, brand):
    assert mastodon_length("see https://example.com/" + "x" * 200) == 4 + 23
    assert mastodon_length("@camille@mastodon.social hi") == len("@camille hi")
    ref = ref_for(mastodon_mock, brand)
    with pytest.raises(ConnectorError) as exc:
        connector().publish(ref, OutboundPost(text="x" * 501))
    assert exc.value.permanent and "500" in str(exc.value)
    with pytest.raises(ConnectorError):
        connector().publish(ref, OutboundPost(text="   "))


def test_publish_with_an_image_and_alt_text_then_delete(mastodon_mock, brand):
    mock, mastodon = mastodon_mock, connector()
    ref = ref_for(mock, brand, post_visibility="unlisted", language="fr")
    mock.files["logo.png"] = (b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")
    sent = mastodon.publish(ref, OutboundPost(text="Nos nouveautés", link="https://acme.example/new",
                                              media_urls=[f"{mock.url}/files/logo.png"], alt_texts=["Le logo"]))
    stored = mock.statuses[sent.external_id]
    assert stored["text"] == "Nos nouveautés\nhttps://acme.example/new" and stored["visibility"] == "unlisted"
    assert stored["language"] == "fr"
    [media] = [mock.media[m] for m in stored["media_ids"]]
    assert media["description"] == "Le logo" and media["type"] == "image"
    assert mastodon.post_metrics(ref, sent.external_id) == {"replies": 0, "reblogs": 0, "favourites": 0}
    mastodon.delete_post(ref, sent.external_id)
    assert sent.external_id not in mock.statuses
    with pytest.raises(ConnectorError) as exc:
        mastodon.publish(ref, OutboundPost(text="x", media_urls=[f"{mock.url}/files/missing.png"]))
    assert exc.value.permanent


# --- moderation, metrics, search, check ------------------------------------------------------------------------


def test_moderation_does_what_mastodon_allows_and_says_what_it_does_not(mastodon_mock, brand):
    mock, mastodon = mastodon_mock, connector()
    ref = ref_for(mock, brand)
    troll = mock.account("troll")
    rude = mock.post(troll, "@acme nul nul nul")
    hidden = mastodon.hide(ref, rude["id"])
    assert "Dandelion only" in hidden.detail and rude["id"] in mock.statuses  # Mastodon has no hidden replies
    assert "Dandelion only" in mastodon.unhide(ref, rude["id"]).detail
    with pytest.raises(ConnectorError) as exc:
        mastodon.delete(ref, rude["id"])
    assert exc.value.permanent and "own posts" in str(exc.value)
    assert mastodon.ban_author(ref, troll.id).detail == "blocked on Mastodon"
    assert mock.relationships[(brand.id, troll.id)]["blocking"] is True
    assert mastodon.mute_author(ref, troll.id).detail == "muted on Mastodon"
    assert mock.relationships[(brand.id, troll.id)]["muting"] is True
    report = mastodon.report(ref, troll.id, [rude["id"]], "insultes répétées", forward=True)
    assert "report 1" in report.detail
    assert mock.reports[0]["status_ids"] == [rude["id"]] and mock.reports[0]["forwarded"] is True
    own = mastodon.publish(ref, OutboundPost(text="à supprimer"))
    assert mastodon.delete(ref, own.external_id).detail == "deleted on Mastodon"
    # a blocked author's mentions no longer notify the account
    cursor = poll_with_cursor(mastodon, ref, None).cursor
    mock.post(troll, "@acme encore")
    assert poll_with_cursor(mastodon, ref, cursor).events == []


def test_metrics_search_and_check(mastodon_mock, brand):
    mock, mastodon = mastodon_mock, connector()
    ref = ref_for(mock, brand)
    metrics = mastodon.fetch_metrics(ref)
    assert metrics.followers == 1200 and metrics.posts == 0
    fan = mock.account("fan")
    tagged = [mock.post(fan, f"J'adore #Acme {i}")["id"] for i in range(3)]
    mock.post(fan, "rien à voir")
    page = mastodon.search(ref, "#acme", limit=2)
    assert [e.external_id for e in page.events] == tagged[:0:-1] and page.cursor == tagged[1]
    rest = mastodon.search(ref, "#acme", limit=2, cursor=page.cursor)
    assert [e.external_id for e in rest.events] == [tagged[0]] and rest.cursor is None
    words = mastodon.search(ref, "adore")
    assert len(words.events) == 3 and all(e.kind == "mention" for e in words.events)
    assert Capability.SEARCH in mastodon.capabilities
    lines = {line.name: line for line in mastodon.check(ref)}
    assert all(line.ok for line in lines.values()) and "acme" in lines["token"].detail
    assert "of 300 left" in lines["rate limit"].detail


def test_config_is_checked(mastodon_mock, brand):
    mastodon = connector()
    with pytest.raises(ConfigError) as exc:
        mastodon.validate_config({"instance": "ftp://x", "page_size": 100, "poll_interval_s": 1,
                                  "post_visibility": "direct", "language": "French"})
    assert set(exc.value.errors) == {"instance", "page_size", "poll_interval_s", "post_visibility", "language"}
    with pytest.raises(ConfigError) as exc:
        mastodon.validate_config({"instance": "https://mastodon.social", "bogus": 1})
    assert exc.value.errors == {"bogus": "unknown field"}
    with pytest.raises(ConfigError) as exc:
        mastodon.validate_config({})
    assert exc.value.errors == {"instance": "required"}
    assert mastodon.validate_config({"instance": "https://mastodon.social/"})["instance"] == \
        "https://mastodon.social"
    assert registry.get_network("mastodon").default_connector == "mastodon"
    assert registry.get_network("mastodon").profile_url("@brand@mastodon.social") == \
        "https://mastodon.social/@brand"
    bad = ref_for(mastodon_mock, brand, page_size=0)
    assert [line.ok for line in mastodon.check(bad)] == [False]


# --- errors and rate limits ------------------------------------------------------------------------------------


def test_a_revoked_token_is_permanent(mastodon_mock, brand):
    mock, mastodon = mastodon_mock, connector()
    ref = ref_for(mock, brand)
    cursor = poll_with_cursor(mastodon, ref, None).cursor
    mock.revoke_token(brand.token)
    with pytest.raises(ConnectorError) as exc:
        poll_with_cursor(mastodon, ref, cursor)
    assert exc.value.permanent and "revoked" in str(exc.value)
    lines = mastodon.check(ref)
    assert lines[-1].name == "token" and not lines[-1].ok
    with pytest.raises(ConnectorError) as exc:
        mastodon.poll_cursor(ref_for(mock, brand, token=""), None)
    assert exc.value.permanent
    other = mock.account("other")
    with pytest.raises(ConnectorError) as exc:  # a token of another account than the one registered
        mastodon.poll_cursor(ref_for(mock, brand, token=mock.token_for(other)), None)
    assert exc.value.permanent and "not to this account" in str(exc.value)


def test_server_errors_and_timeouts_are_transient(mastodon_mock, brand):
    mock, mastodon = mastodon_mock, connector()
    ref = ref_for(mock, brand)
    cursor = poll_with_cursor(mastodon, ref, None).cursor
    mock.fail_next(503, {"error": "Service Unavailable"}, path_prefix="/api/v1/notifications")
    with pytest.raises(ConnectorError) as exc:
        poll_with_cursor(mastodon, ref, cursor)
    assert not exc.value.permanent
    assert poll_with_cursor(mastodon, ref, cursor).events == []  # the next poll goes on
    mock.fail_next(422, {"error": "Validation failed: Text can't be blank"}, path_prefix="/api/v1/statuses")
    with pytest.raises(ConnectorError) as exc:
        mastodon.publish(ref, OutboundPost(text="refusé"))
    assert exc.value.permanent and "blank" in str(exc.value)
    with pytest.raises(ConnectorError) as exc:
        mastodon.send_reply(ref, OutboundReply(text="?", in_reply_to="999999"))  # gone
    assert exc.value.permanent
    dead = AccountRef(id=next(_ids), network="mastodon", external_id=brand.id, handle="acme",
                      credentials={"access_token": "t"}, config={"instance": "http://127.0.0.1:9", "timeout_s": 2})
    with pytest.raises(ConnectorError) as exc:
        mastodon.poll_cursor(dead, None)
    assert not exc.value.permanent and "cannot reach" in str(exc.value)


def test_rate_limits_delay_the_next_call_instead_of_failing(mastodon_mock, brand):
    mock, mastodon = mastodon_mock, connector()
    ref = ref_for(mock, brand)
    cursor = poll_with_cursor(mastodon, ref, None).cursor
    # the instance answers 429 with its X-RateLimit headers
    mock.spend_budget(brand.token, remaining=-1, reset_in_s=90)
    with pytest.raises(ConnectorError) as exc:
        poll_with_cursor(mastodon, ref, cursor)
    assert not exc.value.permanent and 80 <= exc.value.retry_after <= 91
    # the window is known spent now: the next call is not even made
    before = len(mock.requests)
    with pytest.raises(ConnectorError) as exc:
        poll_with_cursor(mastodon, ref, cursor)
    assert len(mock.requests) == before and 80 <= exc.value.retry_after <= 91 and not exc.value.permanent
    # the last allowed call says Remaining: 0 → the following one waits for the reset
    clients.forget()
    mock.spend_budget(brand.token, remaining=3, reset_in_s=60)
    poll_with_cursor(mastodon, ref, cursor)  # verify_credentials, notifications, conversations: 3 calls
    with pytest.raises(ConnectorError) as exc:
        poll_with_cursor(mastodon, ref, cursor)
    assert 50 <= exc.value.retry_after <= 61
    mock.spend_budget(brand.token, remaining=300, reset_in_s=-1)  # the window reset
    client = clients.client_for(ref.id, mock.url, brand.token, timeout=5)
    client.api.ratelimit_reset = time.time() - 1
    assert poll_with_cursor(mastodon, ref, cursor).events == []


# --- connecting an account (OAuth) -----------------------------------------------------------------------------


def test_app_registration_and_authorisation_code_flow(mastodon_mock):
    mock = mastodon_mock
    brand = mock.account("acme", "Acme")
    mock.authorize_as = brand.id  # who is logged in on the instance's consent screen
    redirect = "https://dandelion.example/accounts/oauth/mastodon/callback"
    app = oauth.register_app(mock.url + "/", redirect)
    assert app.instance == mock.url and mock.apps[app.client_id]["redirect_uri"] == redirect
    assert set(oauth.SCOPES) <= set(mock.apps[app.client_id]["scopes"])
    state = shared_oauth.make_state("secret", 42)
    url = oauth.authorize_url(app, state)
    assert url.startswith(f"{mock.url}/oauth/authorize?") and "force_login=True" in url
    # the user consents; the instance redirects back to Dandelion with the code and the state
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    back = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert shared_oauth.check_state("secret", back["state"][0], account_id=42) == 42
    connected = oauth.exchange_code(app, back["code"][0])
    assert connected["external_id"] == brand.id and connected["handle"] == f"acme@{mock.host}"
    assert connected["config"] == {"instance": mock.url}
    token = connected["credentials"]["access_token"]
    assert mock.tokens[token] == brand.id
    # the token works for the connector
    ref = AccountRef(id=next(_ids), network="mastodon", external_id=connected["external_id"],
                     handle=connected["handle"], credentials=connected["credentials"], config=connected["config"])
    assert connector().fetch_metrics(ref).posts == 0
    with pytest.raises(ConnectorError) as exc:  # a code is used once
        oauth.exchange_code(app, back["code"][0])
    assert exc.value.permanent
    oauth.revoke(app, token)
    clients.forget()
    with pytest.raises(ConnectorError) as exc:
        connector().fetch_metrics(ref)
    assert exc.value.permanent


def test_oauth_state_is_signed_bound_and_short_lived():
    state = shared_oauth.make_state("k", 7, now=1000.0)
    assert shared_oauth.check_state("k", state, account_id=7, now=1001.0) == 7
    for bad, kwargs in ((state, {"account_id": 8, "now": 1001.0}), (state, {"now": 1000.0 + 16 * 60}),
                        (state + "x", {"now": 1001.0}), ("garbage", {"now": 1001.0})):
        with pytest.raises(ConnectorError):
            shared_oauth.check_state("k", bad, **kwargs)
    with pytest.raises(ConnectorError):
        shared_oauth.check_state("other key", state, now=1001.0)
    with pytest.raises(ConnectorError):
        oauth.normalise_instance("ftp://x")
    assert oauth.normalise_instance("mastodon.social/") == "https://mastodon.social"


def test_post_metrics_connector_reads_favourites_boosts_replies_and_quotes(mastodon_mock, brand):
    from dandelion.connectors.base import PostMetricsConnector

    mock, mastodon = mastodon_mock, connector()
    ref = ref_for(mock, brand)
    assert isinstance(mastodon, PostMetricsConnector)
    first = mastodon.publish(ref, OutboundPost(text="Premier")).external_id
    second = mastodon.publish(ref, OutboundPost(text="Second")).external_id
    gone = mastodon.publish(ref, OutboundPost(text="Effacé")).external_id
    mock.statuses[first].update(favourites=7, reblogs=3, quotes=1)
    fan = mock.account("fan")
    mock.post(fan, "@acme bravo", in_reply_to=first)
    mock.post(fan, "@acme super", in_reply_to=first)
    mastodon.delete_post(ref, gone)
    found = {m.external_id: m for m in mastodon.fetch_post_metrics(ref, [first, second, gone, first])}
    assert set(found) == {first, second}  # the deleted status is left out, the repeated id read once
    assert (found[first].likes, found[first].reposts, found[first].replies, found[first].quotes) == (7, 3, 2, 1)
    assert (found[second].likes, found[second].reposts, found[second].replies) == (0, 0, 0)
