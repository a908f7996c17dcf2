"""ServiceViewSet: writes call the named services with the caller as actor; service errors map to one set of
statuses (400/403/404/409) for every viewset."""

from __future__ import annotations

import pytest
from django.db import IntegrityError
from rest_framework import serializers
from rest_framework.test import APIRequestFactory, force_authenticate

from dandelion.api.viewsets import ServiceModelViewSet
from dandelion.core.exceptions import ConflictError, DandelionError, NotFoundError, PermissionDeniedError
from dandelion.orgs.models import OrgUnit

pytestmark = pytest.mark.django_db
CALLS: list = []


class UnitOut(serializers.ModelSerializer):
    class Meta:
        model = OrgUnit
        fields = ("id", "name")


class NameIn(serializers.Serializer):
    name = serializers.CharField(max_length=20)


def _raise_for(name):
    return {"bad": DandelionError("bad name", field="name"), "deny": PermissionDeniedError("no"),
            "gone": NotFoundError("gone"), "dup": ConflictError("taken"), "race": IntegrityError("unique")}.get(name)


def create_thing(*, actor, name):
    CALLS.append(("create", actor, name))
    if (exc := _raise_for(name)) is not None:
        raise exc
    return OrgUnit.objects.order_by("pk").first()


def rename_thing(unit, *, actor, name):
    CALLS.append(("update", actor, unit.pk, name))
    if (exc := _raise_for(name)) is not None:
        raise exc
    return unit


def delete_thing(unit, *, actor):
    CALLS.append(("destroy", actor, unit.pk))


class ThingViewSet(ServiceModelViewSet):
    queryset = OrgUnit.objects.all()
    serializer_class = UnitOut
    write_serializers = {"create": NameIn, "update": NameIn, "partial_update": NameIn}
    service_calls = {"create": create_thing, "update": rename_thing, "destroy": delete_thing}


def call(method, user, pk=None, data=None):
    factory = APIRequestFactory()
    request = getattr(factory, method)("/things/" + (f"{pk}/" if pk else ""), data or {}, format="json")
    force_authenticate(request, user=user)
    actions = {"post": "create", "put": "update", "patch": "partial_update", "delete": "destroy"}
    view = ThingViewSet.as_view({method: actions[method]})
    return view(request, pk=pk) if pk else view(request)


def test_writes_call_the_services_with_the_caller_as_actor(org):
    CALLS.clear()
    admin = org.users.hub_admin
    created = call("post", admin, data={"name": "ok"})
    assert created.status_code == 201 and created.data["id"] == org.hub.pk
    assert call("patch", admin, org.france.pk, {"name": "fr"}).data["name"] == "France"
    assert call("delete", admin, org.france.pk).status_code == 204
    assert CALLS == [("create", admin, "ok"), ("update", admin, org.france.pk, "fr"),
                     ("destroy", admin, org.france.pk)]


@pytest.mark.parametrize(("name", "status", "code"), [
    ("bad", 400, "invalid"), ("deny", 403, "permission_denied"), ("gone", 404, "not_found"),
    ("dup", 409, "conflict"), ("race", 409, "conflict")])
def test_service_errors_map_to_one_set_of_statuses(org, name, status, code):
    for response in (call("post", org.users.hub_admin, data={"name": name}),
                     call("put", org.users.hub_admin, org.france.pk, {"name": name})):
        assert response.status_code == status
        assert response.data["code"] == code


def test_input_is_validated_before_the_service_and_scope_is_a_404(org):
    CALLS.clear()
    assert call("post", org.users.hub_admin, data={"name": "x" * 30}).status_code == 400
    assert call("patch", org.users.fr_admin, org.spain.pk, {"name": "es"}).status_code == 404  # outside scope
    assert CALLS == []
