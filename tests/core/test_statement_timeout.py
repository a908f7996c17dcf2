"""A web request's statements are bounded on PostgreSQL; one stopped by the bound is a clear 503, never a 500."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection

from dandelion.core.middleware import QUERY_CANCELED, is_statement_timeout

pytestmark = pytest.mark.django_db


class _Canceled(Exception):
    sqlstate = QUERY_CANCELED


def _canceled() -> OperationalError:
    exc = OperationalError("canceling statement due to statement timeout")
    exc.__cause__ = _Canceled()
    return exc


@pytest.fixture
def slow_search(monkeypatch):
    """The inbox search raising what Django raises when PostgreSQL cancels a statement."""
    from dandelion.inbox import filters

    def search(qs, value):
        raise _canceled()

    monkeypatch.setattr(filters, "search_conversations", search)


def test_only_a_cancelled_statement_counts_as_a_timeout():
    assert is_statement_timeout(_canceled())
    other = OperationalError("connection refused")
    other.__cause__ = ConnectionRefusedError()
    assert not is_statement_timeout(other)
    assert not is_statement_timeout(ValueError("x"))


def test_a_search_stopped_by_the_timeout_is_a_503_that_says_what_to_do(org, slow_search, api_for, client_for, settings):
    settings.DANDELION_REQUEST_STATEMENT_TIMEOUT = 30
    r = api_for(org.users.hub_admin).get("/api/v1/conversations/", {"search": "camille"})
    assert r.status_code == 503
    assert r.json()["code"] == "statement_timeout"
    assert "longer than 30 s" in r.json()["detail"] and "Narrow the search" in r.json()["detail"]

    page = client_for(org.users.hub_admin).get("/inbox/", {"search": "camille"})
    assert page.status_code == 503
    assert b"Request stopped" in page.content and b"Narrow the search" in page.content
    partial = client_for(org.users.hub_admin).get("/inbox/", {"search": "camille"}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 503
    assert b"Narrow the search" in partial.content and b"<html" not in partial.content


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # autocommit, as a web request runs (no test transaction to abort)
def test_postgresql_stops_a_web_requests_statement_at_the_bound_and_only_there(org, api_for, monkeypatch, settings):
    """The real thing: a statement of the request sleeping past the bound is cancelled by PostgreSQL and answered
    503; the connection serves the next request; outside requests (workers, commands) no bound applies."""
    from dandelion.inbox import filters

    settings.DANDELION_REQUEST_STATEMENT_TIMEOUT = 0.2
    real = filters.search_conversations

    def sleepy(qs, value):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(2)")
        return real(qs, value)

    monkeypatch.setattr(filters, "search_conversations", sleepy)
    api = api_for(org.users.hub_admin)
    try:
        r = api.get("/api/v1/conversations/", {"search": "camille"})
        assert r.status_code == 503 and r.json()["code"] == "statement_timeout"
        assert "longer than 0.2 s" in r.json()["detail"]
        monkeypatch.setattr(filters, "search_conversations", real)
        assert api.get("/api/v1/conversations/", {"search": "camille"}).status_code == 200
        with connection.cursor() as cursor:  # after the request: not bound
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "0"
            cursor.execute("SELECT pg_sleep(0.3)")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_web_process_binds_each_connection_when_it_opens_not_every_request(org, api_for, monkeypatch, settings):
    """``config/wsgi.py`` (a web process) binds connections when they open: no SET/RESET around each request (two
    round trips of a webhook's seven), the bound still stops a slow statement, and survives the requests."""
    from django.db.backends.signals import connection_created

    from dandelion.core import middleware
    from dandelion.inbox import filters

    settings.DANDELION_REQUEST_STATEMENT_TIMEOUT = 0.2
    per_request = []
    monkeypatch.setattr(middleware, "_BIND_ON_CONNECT", False)
    monkeypatch.setattr(middleware, "_reset_timeout", lambda: per_request.append("reset"))
    real = filters.search_conversations

    def sleepy(qs, value):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(2)")
        return real(qs, value)

    middleware.bind_web_connections()
    try:
        connection.close()
        api = api_for(org.users.hub_admin)  # opens the connection: bound now
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "200ms"
        assert api.get("/api/v1/conversations/").status_code == 200
        monkeypatch.setattr(filters, "search_conversations", sleepy)
        r = api.get("/api/v1/conversations/", {"search": "camille"})
        assert r.status_code == 503 and r.json()["code"] == "statement_timeout"
        assert per_request == []  # neither set nor reset per request
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "200ms"
    finally:
        connection_created.disconnect(dispatch_uid="dandelion.bind_web_connections")
        connection.close()  # the next test opens an unbound connection
        if hasattr(connection, "dandelion_bound_ms"):
            del connection.dandelion_bound_ms
