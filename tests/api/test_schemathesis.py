"""Property-based API testing: schemathesis generates requests from /api/schema/ for every operation, once as a hub
admin (who may do everything) and once as an external vendor's moderator (who sees its own queue and nothing else).

Every response must be no server error, carry a status code the schema documents for that operation, the content
type it documents, and a body valid against the documented schema (so a field documented non-null never comes back
null, an enum value is never missing, a 400/403/404/409 is never undocumented). The number of examples is bounded and
derandomized: the same requests every run, the whole file within a few minutes."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis import checks

pytestmark = pytest.mark.django_db

#: What each response is held to. ``negative_data_rejection`` and friends are left out on purpose: they judge the
#: requests schemathesis builds, not the responses the schema documents.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


def _token(user) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=user)[0].key


@pytest.fixture
def hub_token(org):
    return _token(org.users.hub_admin)


@pytest.fixture
def vendor_token(org):
    return _token(org.users.moderator)


# Django's application, not config/wsgi.py's: that module makes its process a web process (every database
# connection bound by the requests' statement timeout when it opens), which would leak into the other tests
application = get_wsgi_application()

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

bounded = settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


@schema.parametrize()
@bounded
def test_hub_admin(case, hub_token):
    case.call_and_validate(headers={"Authorization": f"Token {hub_token}"}, checks=CHECKS)


@schema.parametrize()
@bounded
def test_vendor_moderator(case, vendor_token):
    case.call_and_validate(headers={"Authorization": f"Token {vendor_token}"}, checks=CHECKS)
