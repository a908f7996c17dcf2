"""The audit log's permission matrix (pages and API) with the shared helper ``tests/permission_matrix.py``: an event
written in France is read by whoever may view audit events there (``core.view_auditevent``), a 404 for everyone
else, the same as for an event that does not exist; the log takes no writes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dandelion.core import audit
from tests.permission_matrix import IN_FRANCE, MISSING, PEOPLE, Case, check, outcome

pytestmark = pytest.mark.django_db

#: Helper agents hold no ``*.view_*`` on core: they do not read the audit log.
READS_FRENCH_AUDIT = IN_FRANCE - {"fr_agent"}


@pytest.fixture
def world(org):
    org.event = audit.record(actor=org.users.fr_admin, action="assets.account.update", obj=org.fr_account,
                             unit=org.france, summary="Edited @brand_fr")
    return org


# the audit log is not part of a team-scoped role (external moderator): a typed address answers a clear 403
AUDIT_LIST = {r: 403 if r == "moderator" else 200 for r in PEOPLE}

CASES = [
    Case("audit list", lambda w: reverse("core:audit-list"), AUDIT_LIST),
    Case("audit event", lambda w: reverse("core:audit-detail", args=[w.event.pk]), outcome(ok=READS_FRENCH_AUDIT, visible=READS_FRENCH_AUDIT),
         missing_url=lambda w: reverse("core:audit-detail", args=[MISSING])),
    Case("audit list within France", lambda w: reverse("core:audit-list") + f"?unit={w.france.pk}",
         AUDIT_LIST, missing_url=lambda w: reverse("core:audit-list") + f"?unit={MISSING}"),
    Case("api audit event", lambda w: f"/api/v1/audit-events/{w.event.pk}/", outcome(ok=READS_FRENCH_AUDIT, visible=READS_FRENCH_AUDIT),
         api=True, missing_url=lambda w: f"/api/v1/audit-events/{MISSING}/"),
    Case("api audit list", lambda w: "/api/v1/audit-events/", {r: 200 for r in PEOPLE}, api=True),
    # append-only: no role may change or delete an event (405 for whoever sees it, 404 for the others)
    Case("api audit delete", lambda w: f"/api/v1/audit-events/{w.event.pk}/",
         {r: 405 for r in PEOPLE}, method="delete", api=True),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_matrix(case, world):
    check(case, world)


def test_an_event_is_listed_only_where_it_may_be_read(world, client_for):
    for role in sorted(PEOPLE):
        page = client_for(getattr(world.users, role)).get(reverse("core:audit-list")).content.decode()
        assert ("Edited @brand_fr" in page) == (role in READS_FRENCH_AUDIT), role
