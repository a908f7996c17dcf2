"""Network search as a listening source: the query's translation, the cursor per query × account, dedup, health,
one failing query or account stopping nothing else, the periodic job. Through the ``fake`` connector's search (the
in-memory network of the tests); the Bluesky connector's real ``searchPosts`` is in test_search_bluesky.py."""

from __future__ import annotations

import datetime as dt

import pytest

from dandelion.connectors import fake
from dandelion.core.actors import SYSTEM
from dandelion.listening import jobs, services
from dandelion.listening.models import ListeningQuery, Mention, SearchCursor
from dandelion.listening.query import compile_query
from dandelion.listening.search import NotSearchable, poll_network_searches, search_terms, searching_accounts
from tests.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def terms(text):
    return search_terms(compile_query(text))


def test_translation_is_the_documented_subset():
    assert terms("acme") == ["acme"]
    assert terms('"acme bank" OR #acme OR @acme') == ['"acme bank"', "#acme", "@acme"]
    assert terms("(acme OR globex) AND panne") == ["panne"]
    assert terms("acme AND NOT lang:de AND country:FR") == ["acme"]
    with pytest.raises(NotSearchable, match="prefix"):
        terms("acm* OR author:jane")
    with pytest.raises(NotSearchable, match="more than"):
        terms(" OR ".join(f"brand{i}" for i in range(11)))


@pytest.fixture
def world(org):
    fake.reset()
    org.search_account = SocialAccountFactory(
        owner_unit=org.france, network="x", handle="@brand_fr_x", external_id="x-fr", connector="fake"
    )
    org.query = services.create_query(
        actor=SYSTEM, unit=org.france, name="Panne", text="acme AND NOT lang:de", network_search=True
    )
    yield org
    fake.reset()


def post(text, minutes, ext, **kw):
    return fake.make_event(
        text, kind="mention", external_id=ext, created_at=T0 + dt.timedelta(minutes=minutes), **kw
    )


def test_searching_accounts_are_those_that_can_search_one_per_network(world):
    SocialAccountFactory(
        owner_unit=world.france, network="x", handle="@other", external_id="x-2", connector="fake"
    )
    hub_account = SocialAccountFactory(
        owner_unit=world.hub, network="mastodon", external_id="m1", connector="fake"
    )
    SocialAccountFactory(owner_unit=world.spain, network="bluesky", external_id="b1", connector="fake")
    found = searching_accounts(world.query)
    # fr_account (generic connector) cannot search; a second x account is redundant; Spain is not above France
    assert {a.pk for a in found} == {world.search_account.pk, hub_account.pk}


def test_polls_store_matches_as_mentions_with_a_cursor_and_no_duplicates(world):
    fake.FakeConnector.index_for_search(
        [
            post("acme est en panne", 1, "p1"),
            post("Acme encore", 2, "p2"),
            post("acme kaputt", 3, "p3", language="de"),
            post("acme from us", 4, "p4"),
        ]
    )
    first = poll_network_searches(actor=SYSTEM, now=T0 + dt.timedelta(minutes=5))
    assert first.created == 4 and first.errors == []
    q = ListeningQuery.objects.get(pk=world.query.pk)
    mentions = Mention.objects.filter(source="search")
    assert {m.source_ref for m in mentions} == {"x:p1", "x:p2", "x:p3", "x:p4"}
    assert all(m.unit_id == world.france.pk and m.network == "x" for m in mentions)
    # the full query is applied locally: the German post is stored but not matched
    assert set(q.matches.values_list("mention__source_ref", flat=True)) == {"x:p1", "x:p2", "x:p4"}
    cursor = SearchCursor.objects.get(query=q, account=world.search_account)
    assert cursor.state == {"acme": {"newest": (T0 + dt.timedelta(minutes=4)).isoformat()}}
    assert fake.STORE.searches == ["acme"]

    again = poll_network_searches(actor=SYSTEM)  # nothing new: nothing stored twice
    assert again.created == 0 and Mention.objects.filter(source="search").count() == 4

    fake.FakeConnector.index_for_search([post("acme rétabli", 10, "p5"), post("acme ok", 11, "p6")])
    third = poll_network_searches(
        actor=SYSTEM, page=1
    )  # newest first, one per page: walks back to the cursor
    assert third.created == 2 and third.searches >= 3
    assert ListeningQuery.objects.get(pk=q.pk).matches.count() == 5


def test_first_poll_reads_one_page_only(world):
    fake.FakeConnector.index_for_search([post(f"acme {i}", i, f"h{i}") for i in range(30)])
    result = poll_network_searches(actor=SYSTEM, page=10)
    assert result.created == 10 and result.searches == 1
    assert set(Mention.objects.values_list("source_ref", flat=True)) == {f"x:h{i}" for i in range(20, 30)}


def test_own_posts_are_not_mentions(world):
    fake.FakeConnector.index_for_search([post("acme our own post", 1, "own", from_account=True)])
    assert poll_network_searches(actor=SYSTEM).created == 0


def test_a_failing_search_is_on_the_health_and_stops_nothing_else(world):
    other = services.create_query(
        actor=SYSTEM, unit=world.france, name="Globex", text="globex", network_search=True
    )
    unsearchable = services.create_query(
        actor=SYSTEM, unit=world.france, name="Prefix", text="acm*", network_search=True
    )
    fake.FakeConnector.index_for_search([post("acme down", 1, "a1"), post("globex up", 1, "g1")])
    fake.FakeConnector.fail_next(1, message="rate limited")  # the first search (query order: Globex) fails
    result = poll_network_searches(actor=SYSTEM)
    assert result.queries == 3
    failed = ListeningQuery.objects.get(pk=other.pk)
    assert "rate limited" in failed.last_error and "@brand_fr_x" in failed.last_error
    assert "prefix" in ListeningQuery.objects.get(pk=unsearchable.pk).last_error
    assert ListeningQuery.objects.get(pk=world.query.pk).last_error == ""
    assert Mention.objects.filter(source_ref="x:a1").exists()
    assert not SearchCursor.objects.get(query=other).state  # its cursor did not move: the next poll retries
    assert SearchCursor.objects.get(query=other).last_error
    again = poll_network_searches(actor=SYSTEM)
    assert again.created == 1 and ListeningQuery.objects.get(pk=other.pk).last_error == ""
    assert services.query_health(ListeningQuery.objects.get(pk=unsearchable.pk))["ok"] is False


def test_a_query_without_a_searching_account_says_so(world):
    q = services.create_query(actor=SYSTEM, unit=world.spain, name="ES", text="acme", network_search=True)
    poll_network_searches(actor=SYSTEM)
    assert "no account" in ListeningQuery.objects.get(pk=q.pk).last_error


def test_queries_without_network_search_are_not_searched(world):
    services.update_query(world.query, actor=SYSTEM, network_search=False)
    assert poll_network_searches(actor=SYSTEM).queries == 0
    assert fake.STORE.searches == []


def test_the_periodic_job_runs_the_poll(world):
    fake.FakeConnector.index_for_search([post("acme", 1, "j1")])
    assert jobs.search_job.call() == 1
