"""Listening's permission matrix (pages and API): every role against a French query and its alert, and the
creations. Who sees listening: the roles with ``*.view_*`` (admins, community managers, PR, analysts); who edits a
query: admins, PR and community managers of its unit; who deletes one: admins and PR."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.permission_matrix import MISSING, PEOPLE, Case, Expect, check, outcome

pytestmark = pytest.mark.django_db

SEES_FR = frozenset({"hub_admin", "europe_admin", "fr_admin", "fr_cm", "pr", "analyst"})
EDITS_FR = SEES_FR - {"analyst"}
DELETES_FR = EDITS_FR - {"fr_cm"}
SEES_LISTENING = frozenset({"hub_admin", "europe_admin", "fr_admin", "es_admin", "fr_cm", "pr", "analyst"})
CREATES = SEES_LISTENING - {"analyst"}
NEW = {"name": "Globex", "text": "globex OR #globex"}


def page(name, obj=None):
    return lambda w: reverse(f"listening:{name}", args=[getattr(w, obj).pk] if obj else [])


def page_missing(name):
    return lambda w: reverse(f"listening:{name}", args=[MISSING])


def api(path, obj=None):
    return lambda w: f"/api/v1/{path.format(pk=getattr(w, obj).pk if obj else '')}"


def api_missing(path):
    return lambda w: f"/api/v1/{path.format(pk=MISSING)}"


CASES = [
    Case("query list", page("query-list"), outcome(ok=SEES_LISTENING, visible=PEOPLE)),
    Case("alert list", page("alert-list"), outcome(ok=SEES_LISTENING, visible=PEOPLE)),
    Case("query page", page("query-detail", "query"), outcome(ok=SEES_FR, visible=SEES_FR),
         missing_url=page_missing("query-detail")),
    Case("query series", page("query-series", "query"), outcome(ok=SEES_FR, visible=SEES_FR),
         missing_url=page_missing("query-series")),
    Case("query editor", page("query-edit", "query"), outcome(ok=EDITS_FR, visible=SEES_FR),
         missing_url=page_missing("query-edit")),
    Case("query editor, bad query", page("query-edit", "query"), outcome(ok=EDITS_FR, visible=SEES_FR,
         ok_status=400), method="post", data=lambda w: {"name": "x", "unit": w.france.pk, "text": "acme AND"},
         missing_url=page_missing("query-edit")),
    Case("query delete", page("query-delete", "query"), outcome(ok=DELETES_FR, visible=SEES_FR, ok_status=302),
         method="post", data=lambda w: {}, missing_url=page_missing("query-delete")),
    Case("query create page", page("query-create"), outcome(ok=CREATES, visible=PEOPLE)),
    Case("alert page", page("alert-detail", "alert"), outcome(ok=SEES_FR, visible=SEES_FR), missing_url=page_missing("alert-detail")),
    Case("alert acknowledge", page("alert-acknowledge", "alert"), outcome(ok=EDITS_FR, visible=SEES_FR,
         ok_status=302), method="post", data=lambda w: {}, missing_url=page_missing("alert-acknowledge")),
    Case("api query", api("listening-queries/{pk}/", "query"), outcome(ok=SEES_FR, visible=SEES_FR), api=True,
         missing_url=api_missing("listening-queries/{pk}/")),
    Case("api query series", api("listening-queries/{pk}/series/", "query"), outcome(ok=SEES_FR, visible=SEES_FR), api=True,
         missing_url=api_missing("listening-queries/{pk}/series/")),
    Case("api query mentions", api("listening-queries/{pk}/mentions/", "query"), outcome(ok=SEES_FR, visible=SEES_FR), api=True,
         missing_url=api_missing("listening-queries/{pk}/mentions/")),
    Case("api query update, bad query", api("listening-queries/{pk}/", "query"), outcome(ok=EDITS_FR,
         visible=SEES_FR, ok_status=400), method="patch", api=True, data=lambda w: {"text": "(acme"},
         missing_url=api_missing("listening-queries/{pk}/")),
    Case("api query update", api("listening-queries/{pk}/", "query"), outcome(ok=EDITS_FR, visible=SEES_FR),
         method="patch", api=True, data=lambda w: {"description": "brand"},
         missing_url=api_missing("listening-queries/{pk}/")),
    Case("api query delete", api("listening-queries/{pk}/", "query"), outcome(ok=DELETES_FR, visible=SEES_FR,
         ok_status=204), method="delete", api=True, missing_url=api_missing("listening-queries/{pk}/")),
    Case("api query create", api("listening-queries/"), outcome(ok=EDITS_FR, ok_status=201, visible=PEOPLE,
         es_admin=400), method="post", api=True, data=lambda w: {**NEW, "unit": w.france.pk},
         missing_data=lambda w: {**NEW, "unit": MISSING}),
    Case("api query create, stop word", api("listening-queries/"), outcome(ok=EDITS_FR, ok_status=400,
         visible=PEOPLE, es_admin=400), method="post", api=True,
         data=lambda w: {"name": "x", "text": "the", "unit": w.france.pk}),
    Case("api queries of France", lambda w: f"/api/v1/listening-queries/?unit={w.france.pk}",
         Expect({r: 200 for r in PEOPLE}, ok=SEES_FR), api=True,
         missing_url=lambda w: f"/api/v1/listening-queries/?unit={MISSING}"),
    Case("api alert", api("listening-alerts/{pk}/", "alert"), outcome(ok=SEES_FR, visible=SEES_FR), api=True,
         missing_url=api_missing("listening-alerts/{pk}/")),
    Case("api alert acknowledge", api("listening-alerts/{pk}/acknowledge/", "alert"), outcome(ok=EDITS_FR,
         visible=SEES_FR), method="post", api=True, missing_url=api_missing("listening-alerts/{pk}/acknowledge/")),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_matrix(case, world):
    check(case, world)
