"""The inbox's permission matrix (pages and API) with the shared helper ``tests/permission_matrix.py``: every role
against a French conversation (routed to the French helpers), one routed to the vendor's moderation team, a French
canned response, and the lists."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dandelion.inbox.models import CannedResponse, Contact, Conversation
from tests.permission_matrix import ADMINS_OF_FRANCE, IN_FRANCE, MISSING, PEOPLE, Case, Expect, check, outcome

pytestmark = pytest.mark.django_db

#: Who works French conversations (``inbox.*``): admins, the community manager, the agents, the PR manager.
WORKS_FRANCE = IN_FRANCE - {"analyst"}
#: Who may add canned responses somewhere.
ADDS_CANNED = ADMINS_OF_FRANCE | {"es_admin", "fr_cm", "fr_agent", "es_agent", "pr"}
HTMX = {"HX-Request": "true"}


@pytest.fixture
def world(org):
    contact = Contact.objects.create(name="Camille")
    org.fr_conv = Conversation.objects.create(account=org.fr_account, contact=contact, team=org.fr_team,
                                              thread_key="t-fr")
    org.vendor_conv = Conversation.objects.create(account=org.fr_account, contact=contact, team=org.vendor_team,
                                                  thread_key="t-vendor")
    org.canned = CannedResponse.objects.create(unit=org.france, title="Merci", shortcut="merci", body="Merci !",
                                               language="fr")
    return org


def page(name, obj=None, *extra):
    return lambda w: reverse(f"inbox:{name}", args=[*([getattr(w, obj).pk] if obj else []), *extra])


def page_missing(name, *extra):
    return lambda w: reverse(f"inbox:{name}", args=[MISSING, *extra])


def api(path, obj=None):
    return lambda w: f"/api/v1/{path.format(pk=getattr(w, obj).pk if obj else '')}"


def api_missing(path):
    return lambda w: f"/api/v1/{path.format(pk=MISSING)}"


def new_canned(unit):
    return lambda w: {"unit": unit(w), "title": "Bonjour", "shortcut": "bonjour", "body": "Bonjour !",
                      "language": "fr"}


CASES = [
    Case("queue", page("queue"), {r: 200 for r in PEOPLE}),
    Case("conversation", page("conversation-detail", "fr_conv"), outcome(ok=IN_FRANCE),
         missing_url=page_missing("conversation-detail")),
    Case("vendor's conversation", page("conversation-detail", "vendor_conv"),
         outcome(ok=IN_FRANCE | {"moderator"}), missing_url=page_missing("conversation-detail")),
    Case("priority", page("conversation-action", "fr_conv", "priority"), outcome(ok=WORKS_FRANCE), method="post",
         data=lambda w: {"priority": "high"}, headers=HTMX,
         missing_url=page_missing("conversation-action", "priority")),
    Case("vendor's priority", page("conversation-action", "vendor_conv", "priority"),
         outcome(ok=WORKS_FRANCE | {"moderator"}), method="post", data=lambda w: {"priority": "high"},
         headers=HTMX, missing_url=page_missing("conversation-action", "priority")),
    # invalid input is told only to who may act
    Case("empty note", page("conversation-action", "fr_conv", "note"), outcome(ok=WORKS_FRANCE, ok_status=400),
         method="post", data=lambda w: {"text": ""}, headers=HTMX,
         missing_url=page_missing("conversation-action", "note")),
    Case("canned list", page("canned-list"), {r: 200 for r in PEOPLE}),
    Case("canned create", page("canned-create"), outcome(ok=ADDS_CANNED, visible=PEOPLE)),
    Case("canned edit", page("canned-edit", "canned"), outcome(ok=WORKS_FRANCE),
         missing_url=page_missing("canned-edit")),
    Case("deliveries", page("deliveries"), {r: 200 for r in PEOPLE}),
    Case("api conversation", api("conversations/{pk}/", "fr_conv"), outcome(ok=IN_FRANCE), api=True,
         missing_url=api_missing("conversations/{pk}/")),
    Case("api vendor's conversation", api("conversations/{pk}/", "vendor_conv"),
         outcome(ok=IN_FRANCE | {"moderator"}), api=True, missing_url=api_missing("conversations/{pk}/")),
    Case("api priority", api("conversations/{pk}/priority/", "fr_conv"), outcome(ok=WORKS_FRANCE),
         method="post", api=True, data=lambda w: {"priority": "high"},
         missing_url=api_missing("conversations/{pk}/priority/")),
    Case("api empty note", api("conversations/{pk}/note/", "fr_conv"), outcome(ok=WORKS_FRANCE, ok_status=400),
         method="post", api=True, data=lambda w: {"text": ""}, missing_url=api_missing("conversations/{pk}/note/")),
    # whether a person exists is told only to who may assign
    Case("api assign to nobody known", api("conversations/{pk}/assign/", "fr_conv"),
         outcome(ok=WORKS_FRANCE, ok_status=400), method="post", api=True, data=lambda w: {"assignee": MISSING},
         missing_url=api_missing("conversations/{pk}/assign/")),
    Case("api canned", api("canned-responses/{pk}/", "canned"), outcome(ok=IN_FRANCE), api=True,
         missing_url=api_missing("canned-responses/{pk}/")),
    Case("api canned update, invalid", api("canned-responses/{pk}/", "canned"),
         outcome(ok=WORKS_FRANCE, ok_status=400), method="patch", api=True, data=lambda w: {"translations": [1]},
         missing_url=api_missing("canned-responses/{pk}/")),
    Case("api canned delete", api("canned-responses/{pk}/", "canned"), outcome(ok=WORKS_FRANCE, ok_status=204),
         method="delete", api=True, missing_url=api_missing("canned-responses/{pk}/")),
    # retrying deliveries needs the right to change accounts: refused before the input is read
    Case("api retry deliveries, invalid", api("inbound-deliveries/retry/"),
         outcome(ok=ADMINS_OF_FRANCE | {"es_admin", "fr_cm"}, ok_status=400, visible=PEOPLE), method="post",
         api=True, data=lambda w: {"account": "not a number"}),
    Case("api canned of France", lambda w: f"/api/v1/canned-responses/?unit={w.france.pk}",
         Expect({r: 200 for r in PEOPLE}, ok=IN_FRANCE), api=True,
         missing_url=lambda w: f"/api/v1/canned-responses/?unit={MISSING}"),
    Case("api canned create", api("canned-responses/"),
         outcome(ok=WORKS_FRANCE, ok_status=201, visible=PEOPLE, es_admin=400, es_agent=400), method="post",
         api=True, data=new_canned(lambda w: w.france.pk), missing_data=new_canned(lambda w: MISSING)),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_matrix(case, world):
    check(case, world)
