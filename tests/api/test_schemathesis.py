"""Property-based API testing: schemathesis generates requests from /api/schema/ for every operation, as a hub
admin (who may do everything), and no response may be a server error."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """The WSGI app is called directly, not through Django's test client: like the test client, keep the
    request signals from closing the test's database connection (on PostgreSQL that ends the test transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def hub_token(org):
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=org.users.hub_admin)[0].key


# Django's application, not config/wsgi.py's: that module makes its process a web process (every database
# connection bound by the requests' statement timeout when it opens), which would leak into the other tests
application = get_wsgi_application()

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_error(case, hub_token):
    response = case.call(headers={"Authorization": f"Token {hub_token}"})
    case.validate_response(response, checks=[not_a_server_error])
