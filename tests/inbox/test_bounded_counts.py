"""The conversation lists (API and inbox queue) count up to a limit; past it the count reads "N+"."""

from __future__ import annotations

from tests.inbox.conftest import event


def test_the_api_reports_a_bounded_count_and_pages_past_it(inbox, api_for, deliver, settings):
    settings.DANDELION_COUNT_LIMIT = 4
    settings.DANDELION_SEARCH_COUNT_LIMIT = 2
    deliver(inbox.fr_account, *[event(f"Ma commande {i} n'est pas arrivée", id=f"c{i}", author=f"cust-{i}")
                                for i in range(7)])
    api = api_for(inbox.users.fr_cm)
    first = api.get("/api/v1/conversations/", {"page_size": 3}).json()
    assert first["count"] == 4 and first["count_exact"] is False and len(first["results"]) == 3 and first["next"]
    third = api.get("/api/v1/conversations/", {"page_size": 3, "page": 3}).json()
    assert len(third["results"]) == 1 and third["next"] is None and third["previous"]
    last = api.get("/api/v1/conversations/", {"page_size": 3, "page": "last"}).json()
    assert last["count"] == 7 and last["count_exact"] is True and len(last["results"]) == 1
    ids = {r["id"] for p in (1, 2, 3) for r in api.get("/api/v1/conversations/",
                                                         {"page_size": 3, "page": p}).json()["results"]}
    assert len(ids) == 7  # every conversation once, over pages that were never counted
    assert api.get("/api/v1/conversations/", {"page_size": 3, "page": 4}).status_code == 404
    for bad in ("abc", "0", "-1", "2.5"):  # a clear 404 "Invalid page.", counted or not
        response = api.get("/api/v1/conversations/", {"page_size": 3, "page": bad})
        assert response.status_code == 404 and "Invalid page" in response.json()["detail"], bad
    search = api.get("/api/v1/conversations/", {"search": "commande"}).json()
    assert search["count"] == 2 and search["count_exact"] is False and len(search["results"]) == 7
    assert api.get("/api/v1/conversations/", {"search": "commande 3"}).json()["count_exact"] is True
    # outside the caller's scope nothing is counted
    assert api_for(inbox.users.es_agent).get("/api/v1/conversations/").json() == {
        "count": 0, "count_exact": True, "next": None, "previous": None, "results": []}


def test_the_inbox_queue_shows_a_bounded_count(inbox, client_for, deliver, settings):
    settings.DANDELION_SCREEN_COUNT_LIMIT = 3
    deliver(inbox.fr_account, *[event(f"Ma commande {i} n'est pas arrivée", id=f"q{i}", author=f"q-{i}")
                                for i in range(5)])
    body = client_for(inbox.users.fr_cm).get("/inbox/", {"tab": "all"}).content.decode()
    assert "3+ in all" in body
    settings.DANDELION_SCREEN_COUNT_LIMIT = 10
    body = client_for(inbox.users.fr_cm).get("/inbox/", {"tab": "all"}).content.decode()
    assert "5 in all" in body and "3+ in all" not in body


def test_the_queue_tabs_count_open_conversations_up_to_the_limit(inbox, client_for, deliver, settings):
    settings.DANDELION_SCREEN_COUNT_LIMIT = 2
    deliver(inbox.fr_account, *[event(f"Ma box {i} ne marche plus", id=f"t{i}", author=f"t-{i}") for i in range(3)])
    response = client_for(inbox.users.fr_cm).get("/inbox/", {"tab": "all"})
    tabs = {key: count for key, _, count in response.context["tabs"]}
    assert tabs["all"] == "2+"
    settings.DANDELION_SCREEN_COUNT_LIMIT = 100
    response = client_for(inbox.users.fr_cm).get("/inbox/", {"tab": "all"})
    assert {key: count for key, _, count in response.context["tabs"]}["all"] == "3"


def _counts(queries) -> int:
    return sum(q["sql"].startswith("SELECT COUNT(*)") for q in queries)


def test_a_tab_opened_unfiltered_is_counted_once_for_its_chip_and_its_pages(inbox, client_for, deliver, settings):
    """The list of a tab opened as it opens (its open conversations) is the list its chip counts: one count for
    both. Any other filter counts the page's list itself; an HTMX refresh of the table counts no chip."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.DANDELION_SCREEN_COUNT_LIMIT = 3
    deliver(inbox.fr_account, *[event(f"Ma commande {i} n'est pas arrivée", id=f"o{i}", author=f"o-{i}")
                                for i in range(5)])
    c = client_for(inbox.users.fr_cm)
    with CaptureQueriesContext(connection) as ctx:
        response = c.get("/inbox/", {"tab": "all"})
    tabs = {key: count for key, _, count in response.context["tabs"]}
    assert tabs["all"] == "3+" and "3+ in all" in response.content.decode()
    assert _counts(ctx.captured_queries) == len(tabs)  # the chips; the page's count is the "all" chip's
    settings.DANDELION_SCREEN_COUNT_LIMIT = 10
    filtered = c.get("/inbox/", {"tab": "all", "priority": "urgent"})
    assert "0 in all" in filtered.content.decode() and {k: n for k, _, n in filtered.context["tabs"]}["all"] == "5"
    assert "5 in all" in c.get("/inbox/", {"tab": "all", "status": "bogus"}).content.decode()  # invalid: left out
    assert "5 in all" in c.get("/inbox/", {"tab": "all", "status": ""}).content.decode()  # any status
    full = c.get("/inbox/", {"tab": "all"}).content.decode()
    with CaptureQueriesContext(connection) as ctx:
        partial = c.get("/inbox/", {"tab": "all"}, HTTP_HX_REQUEST="true").content.decode()
    assert _counts(ctx.captured_queries) == 1 and partial.strip() in full  # the same table, one count
    with CaptureQueriesContext(connection) as ctx:
        partial = c.get("/inbox/", {"tab": "all", "search": "commande"}, HTTP_HX_REQUEST="true").content.decode()
    assert _counts(ctx.captured_queries) == 1 and "5 in all" in partial
