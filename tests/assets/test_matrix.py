"""The account registry's permission matrix (pages and API) with the shared helper ``tests/permission_matrix.py``:
every role against the French account, its actions, and the registrations."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.permission_matrix import ADMINS_OF_FRANCE, IN_FRANCE, MISSING, PEOPLE, Case, check, outcome

pytestmark = pytest.mark.django_db

CHANGERS = ADMINS_OF_FRANCE | {"fr_cm"}  # community managers register and edit accounts, admins archive them
ADDERS_SOMEWHERE = ADMINS_OF_FRANCE | {"es_admin", "fr_cm"}


def page(name, *, account=True):
    def url(w):
        return reverse(f"assets:{name}", args=[w.fr_account.pk] if account else [])

    return url


def page_missing(name):
    return lambda w: reverse(f"assets:{name}", args=[MISSING])


def api(action=None):
    def url(w):
        if action is None:
            return reverse("api:socialaccount-detail", args=[w.fr_account.pk])
        return reverse(f"api:socialaccount-{action}", args=[w.fr_account.pk])

    return url


def api_missing(action=None):
    def url(w):
        if action is None:
            return reverse("api:socialaccount-detail", args=[MISSING])
        return reverse(f"api:socialaccount-{action}", args=[MISSING])

    return url


def new_account(unit):
    return lambda w: {"network": "facebook", "handle": "@brand_lyon", "external_id": "fb-lyon",
                      "owner_unit": unit(w)}


CASES = [
    Case("detail", page("account-detail"), outcome(ok=IN_FRANCE), missing_url=page_missing("account-detail")),
    Case("edit form", page("account-edit"), outcome(ok=CHANGERS), missing_url=page_missing("account-edit")),
    Case("transfer form", page("account-transfer"), outcome(ok=CHANGERS),
         missing_url=page_missing("account-transfer")),
    Case("archive form", page("account-archive"), outcome(ok=ADMINS_OF_FRANCE),
         missing_url=page_missing("account-archive")),
    Case("rotate secret", page("account-rotate-secret"), outcome(ok=ADMINS_OF_FRANCE), method="post",
         data=lambda w: {}, missing_url=page_missing("account-rotate-secret")),
    Case("credentials", page("account-credentials"), outcome(ok=CHANGERS, ok_status=302), method="post",
         data=lambda w: {"credentials": "access_token = x"}, missing_url=page_missing("account-credentials")),
    Case("create form", page("account-create", account=False), outcome(ok=ADDERS_SOMEWHERE, visible=PEOPLE)),
    Case("import form", page("account-import", account=False), outcome(ok=ADDERS_SOMEWHERE, visible=PEOPLE)),
    Case("list", page("account-list", account=False), {**{r: 200 for r in PEOPLE}, "moderator": 403}),  # a team-scoped vendor has no registry
    Case("api detail", api(), outcome(ok=IN_FRANCE), api=True, missing_url=api_missing()),
    Case("api update", api(), outcome(ok=CHANGERS), method="patch", api=True,
         data=lambda w: {"display_name": "Nouveau"}, missing_url=api_missing()),
    Case("api update, invalid input", api(), outcome(ok=CHANGERS, ok_status=400), method="patch", api=True,
         data=lambda w: {"country": "France"}, missing_url=api_missing()),
    # France's people may change the account but do not see Spain: "does not exist", as for any unknown unit
    Case("api transfer to Spain", api("transfer"), outcome(ok=CHANGERS, fr_admin=400, fr_cm=400), method="post", api=True, data=lambda w: {"to_unit": w.spain.pk, "reason": "reorg"},
         missing_url=api_missing("transfer")),
    Case("api archive, reason too long", api("archive"), outcome(ok=ADMINS_OF_FRANCE, ok_status=400),
         method="post", api=True, data=lambda w: {"reason": "x" * 300}, missing_url=api_missing("archive")),
    Case("api archive", api("archive"), outcome(ok=ADMINS_OF_FRANCE), method="post", api=True,
         data=lambda w: {"reason": "closed"}, missing_url=api_missing("archive")),
    Case("api rotate secret", api("rotate-webhook-secret"), outcome(ok=ADMINS_OF_FRANCE), method="post",
         api=True, missing_url=api_missing("rotate-webhook-secret")),
    Case("api credentials", api("credentials"), outcome(ok=CHANGERS), method="post", api=True,
         data=lambda w: {"credentials": {"access_token": "x"}}, missing_url=api_missing("credentials")),
    # registering in a unit outside one's scope is answered as for a unit that does not exist
    Case("api register", lambda w: reverse("api:socialaccount-list"),
         outcome(ok=CHANGERS, ok_status=201, visible=PEOPLE, es_admin=400), method="post", api=True,
         data=new_account(lambda w: w.france.pk), missing_data=new_account(lambda w: MISSING)),
    Case("api register, already registered", lambda w: reverse("api:socialaccount-list"),
         outcome(ok=CHANGERS, ok_status=409, visible=PEOPLE, es_admin=400), method="post", api=True,
         data=lambda w: {**new_account(lambda w: w.france.pk)(w), "external_id": "fb-fr"},
         missing_data=lambda w: {**new_account(lambda w: MISSING)(w), "external_id": "fb-fr"}),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_matrix(case, org):
    check(case, org)
