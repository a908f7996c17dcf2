"""core.view_helpers: the permission-checked fetch, the service call, pagination and confirm-then-act."""

from __future__ import annotations

import pytest
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from dandelion.core.exceptions import DandelionError, PermissionDeniedError
from dandelion.core.view_helpers import call_service, confirm_then_act, get_for, get_visible, paginate
from dandelion.orgs.models import OrgUnit

pytestmark = pytest.mark.django_db


def request_as(user, method="get", data=None, **extra):
    request = getattr(RequestFactory(), method)("/x/?page=2" if method == "get" else "/x/", data or {}, **extra)
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    request.htmx = False
    return request


def test_get_visible_and_get_for_tell_404_from_403(org):
    fr_admin = org.users.fr_admin
    assert get_visible(request_as(fr_admin), OrgUnit, org.france.pk) == org.france
    with pytest.raises(Http404):
        get_visible(request_as(fr_admin), OrgUnit, org.spain.pk)  # outside the subtree: not told it exists
    with pytest.raises(PermissionDenied):
        get_for(request_as(org.users.analyst), OrgUnit, org.france.pk, "orgs.change_orgunit", unit=lambda u: u)
    assert get_for(request_as(fr_admin), OrgUnit, org.france.pk, "orgs.change_orgunit", unit=lambda u: u)


def test_call_service_puts_rule_violations_on_the_form_and_denials_as_403(org):
    from django import forms

    class NameForm(forms.Form):
        name = forms.CharField()

    def service(*, actor, fail):
        if fail == "rule":
            raise DandelionError("Name taken.", field="name")
        if fail == "perm":
            raise PermissionDeniedError("No.")
        return actor

    form = NameForm({"name": "x"})
    form.is_valid()
    assert call_service(request_as(org.users.hub_admin), service, form=form, fail="") == (org.users.hub_admin, True)
    assert call_service(request_as(org.users.hub_admin), service, form=form, fail="rule") == (None, False)
    assert form.errors["name"] == ["Name taken."]
    with pytest.raises(PermissionDenied):
        call_service(request_as(org.users.hub_admin), service, fail="perm")


def test_paginate_reads_the_page_parameter(org):
    page = paginate(request_as(org.users.hub_admin), OrgUnit.objects.order_by("pk"), per_page=2)
    assert page.number == 2 and len(page.object_list) == 2


def test_confirm_then_act_asks_on_get_and_acts_on_post(org):
    acted = []

    def act():
        acted.append(True)
        return HttpResponse("done")

    kwargs = {"act": act, "title": "Delete X", "question": "Delete X for good?", "cancel_url": "/back/"}
    asked = confirm_then_act(request_as(org.users.hub_admin), **kwargs)
    assert asked.status_code == 200 and b"Delete X for good?" in asked.content and b'method="post"' in asked.content
    assert acted == []
    assert confirm_then_act(request_as(org.users.hub_admin, "post", {"confirmed": "1"}), **kwargs).content == b"done"
    assert acted == [True]


def test_destructive_org_actions_confirm_first(org, client_for):
    org.fr_team.memberships.update(is_active=False)  # an empty team may be deactivated
    client = client_for(org.users.hub_admin)
    page = client.get(f"/orgs/teams/{org.fr_team.pk}/deactivate/")
    assert page.status_code == 200 and b"Deactivate" in page.content
    org.fr_team.refresh_from_db()
    assert org.fr_team.is_active  # asking changed nothing
    assert client_for(org.users.analyst).get(f"/orgs/teams/{org.fr_team.pk}/deactivate/").status_code == 403
    client.post(f"/orgs/teams/{org.fr_team.pk}/deactivate/", {"confirmed": "1"})
    org.fr_team.refresh_from_db()
    assert not org.fr_team.is_active
