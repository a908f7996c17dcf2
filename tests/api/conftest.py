"""API test fixtures: the inbox's (an organisation whose accounts run on the fake connector, events fed through the
real pipeline) and a WSGI application called directly by schemathesis."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from tests.inbox import conftest as inbox_fixtures

# the inbox's fixtures, for tests that need conversations (autouse: the fake connector's store is reset and the
# keyword stand-in analyzer used when the trained one is not installed)
_fake_store = inbox_fixtures._fake_store
_analyzer = inbox_fixtures._analyzer
inbox = inbox_fixtures.inbox
post_hook = inbox_fixtures.post_hook
deliver = inbox_fixtures.deliver
two_queues = inbox_fixtures.two_queues


@contextmanager
def keeping_test_connection():
    """The WSGI app is called directly, not through Django's test client: like the test client, keep the
    request signals from closing the test's database connection (on PostgreSQL that ends the test transaction).
    Django's test client reconnects them after each of its own requests: enter this again after using it."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _keep_test_connection():
    with keeping_test_connection():
        yield
