"""SCIM 2.0 (RFC 7643/7644) under ``/scim/v2/``: Users and Groups for identity providers that push.

Each provider authenticates with its own bearer token (``Authorization: Bearer scim_…``, stored hashed) and sees
only the people and groups it provisioned: another provider's user is a 404 (and an audit row), exactly as an
unknown one. Supported: list with ``filter=userName eq "…"`` (Groups: ``displayName eq``) and
``startIndex``/``count`` paging, get, create, replace (PUT), PATCH (``replace`` of ``active`` and names; Groups:
``add``/``remove``/``replace`` of ``members``), and DELETE (a user is deactivated, never erased).
"""

from __future__ import annotations

import json
import re
import uuid
from functools import wraps

from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from dandelion.core.exceptions import DandelionError
from dandelion.sso import services
from dandelion.sso.models import ExternalIdentity, IdentityProvider, ScimGroup, hash_token

CONTENT_TYPE = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
MAX_BODY = 1_000_000
MAX_COUNT = 200
FILTER_RE = re.compile(r'^\s*(\w+)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)


def _json(data, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, content_type=CONTENT_TYPE)


def scim_error(status: int, detail: str, scim_type: str | None = None) -> JsonResponse:
    body = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return _json(body, status)


class ScimError(Exception):
    def __init__(self, status: int, detail: str, scim_type: str | None = None):
        super().__init__(detail)
        self.status, self.detail, self.scim_type = status, detail, scim_type


def scim_view(view):
    """Bearer token → provider; JSON body parsed and bounded; errors in SCIM's shape."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        provider = (IdentityProvider.objects.filter(scim_token_hash=hash_token(token), is_active=True)
                    .select_related("bound_unit").first() if token else None)
        if provider is None:
            response = scim_error(401, "A valid SCIM bearer token is required.")
            response["WWW-Authenticate"] = 'Bearer realm="scim"'
            return response
        body = None
        if request.method in ("POST", "PUT", "PATCH"):
            if len(request.body) > MAX_BODY:
                return scim_error(413, "The request body is too large.")
            try:
                body = json.loads(request.body or b"{}")
            except (ValueError, UnicodeDecodeError):
                return scim_error(400, "The body is not JSON.", "invalidSyntax")
            if not isinstance(body, dict):
                return scim_error(400, "The body must be a JSON object.", "invalidSyntax")
        try:
            with transaction.atomic():  # one request, one transaction: nothing half-provisioned
                return view(request, provider, body, *args, **kwargs)
        except ScimError as e:
            if e.status == 404:
                services.record_refusal(provider=provider, reason="scim_not_found", message=e.detail,
                                        subject=request.path)
            return scim_error(e.status, e.detail, e.scim_type)
        except DandelionError as e:
            status = 409 if e.status_code == 409 else 400
            return scim_error(status, e.message, "uniqueness" if status == 409 else "invalidValue")

    return wrapper


# --- representations ---------------------------------------------------------------------------------------
def user_resource(request, identity: ExternalIdentity) -> dict:
    user = identity.user
    groups = [{"value": str(g.scim_id), "display": g.display_name,
               "$ref": request.build_absolute_uri(reverse("scim:group", args=[g.scim_id]))}
              for g in identity.scim_groups.all()]
    data = {
        "schemas": [USER_SCHEMA],
        "id": str(identity.scim_id),
        "userName": identity.username,
        "name": {"givenName": user.first_name, "familyName": user.last_name},
        "displayName": user.get_full_name() or identity.username,
        "emails": [{"value": user.email, "primary": True, "type": "work"}] if user.email else [],
        "active": user.is_active,
        "groups": groups,
        "meta": {"resourceType": "User", "created": identity.created_at.isoformat(),
                 "lastModified": identity.updated_at.isoformat(),
                 "location": request.build_absolute_uri(reverse("scim:user", args=[identity.scim_id]))},
    }
    if identity.external_id:
        data["externalId"] = identity.external_id
    return data


def group_resource(request, group: ScimGroup) -> dict:
    data = {
        "schemas": [GROUP_SCHEMA],
        "id": str(group.scim_id),
        "displayName": group.display_name,
        "members": [{"value": str(m.scim_id), "display": m.username,
                     "$ref": request.build_absolute_uri(reverse("scim:user", args=[m.scim_id]))}
                    for m in group.members.all()],
        "meta": {"resourceType": "Group", "created": group.created_at.isoformat(),
                 "lastModified": group.updated_at.isoformat(),
                 "location": request.build_absolute_uri(reverse("scim:group", args=[group.scim_id]))},
    }
    if group.external_id:
        data["externalId"] = group.external_id
    return data


def _list(request, qs, field_map: dict[str, str], render) -> JsonResponse:
    raw = request.GET.get("filter", "")
    if raw:
        match = FILTER_RE.match(raw)
        if not match or match.group(1).lower() not in field_map:
            raise ScimError(400, f"Only the filters {', '.join(f + ' eq' for f in field_map)} are supported.",
                            "invalidFilter")
        qs = qs.filter(**{f"{field_map[match.group(1).lower()]}__iexact": match.group(2).replace('\\"', '"')})
    try:
        start = max(int(request.GET.get("startIndex", 1)), 1)
        count = min(max(int(request.GET.get("count", 100)), 0), MAX_COUNT)
    except ValueError as e:
        raise ScimError(400, "startIndex and count are integers.", "invalidValue") from e
    total = qs.count()
    page = list(qs[start - 1:start - 1 + count])
    return _json({"schemas": [LIST_SCHEMA], "totalResults": total, "startIndex": start, "itemsPerPage": len(page),
                  "Resources": [render(request, r) for r in page]})


def _parse_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as e:
        raise ScimError(404, f"Resource {value} not found.") from e


def _identity(provider, scim_id) -> ExternalIdentity:
    identity = (ExternalIdentity.objects.filter(provider=provider, scim_id=_parse_id(scim_id))
                .select_related("user").first())
    if identity is None:
        raise ScimError(404, f"User {scim_id} not found.")
    return identity


def _group(provider, scim_id) -> ScimGroup:
    group = ScimGroup.objects.filter(provider=provider, scim_id=_parse_id(scim_id)).first()
    if group is None:
        raise ScimError(404, f"Group {scim_id} not found.")
    return group


def _user_fields(body: dict) -> dict:
    raw_name, raw_emails = body.get("name"), body.get("emails")
    name: dict = raw_name if isinstance(raw_name, dict) else {}
    emails: list = raw_emails if isinstance(raw_emails, list) else []
    email = next((e.get("value") for e in emails if isinstance(e, dict) and e.get("primary")), None) or next(
        (e.get("value") for e in emails if isinstance(e, dict)), "")
    fields = {"first_name": str(name.get("givenName") or ""), "last_name": str(name.get("familyName") or ""),
              "email": str(email or "")[:254]}
    if "externalId" in body:
        fields["external_id"] = str(body.get("externalId") or "")[:255]
    return fields


def _bool(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ScimError(400, "active must be a boolean.", "invalidValue")


# --- Users ---------------------------------------------------------------------------------------------------
@scim_view
def users(request, provider, body):
    if request.method == "GET":
        qs = ExternalIdentity.objects.filter(provider=provider).select_related("user").prefetch_related(
            "scim_groups").order_by("pk")
        return _list(request, qs, {"username": "username", "externalid": "external_id"}, user_resource)
    if request.method != "POST":
        return scim_error(405, "Method not allowed.")
    username = str(body.get("userName") or "").strip()
    if not username:
        raise ScimError(400, "userName is required.", "invalidValue")
    fields = _user_fields(body)
    identity = services.scim_create_user(provider=provider, username=username,
                                         active=_bool(body.get("active", True)), **fields)
    identity.refresh_from_db()
    response = _json(user_resource(request, identity), 201)
    response["Location"] = request.build_absolute_uri(reverse("scim:user", args=[identity.scim_id]))
    return response


@scim_view
def user(request, provider, body, scim_id):
    identity = _identity(provider, scim_id)
    if request.method == "GET":
        return _json(user_resource(request, identity))
    if request.method == "DELETE":
        services.scim_set_active(provider=provider, identity=identity, active=False)
        return HttpResponse(status=204)
    if request.method == "PUT":
        if body.get("userName") and str(body["userName"]) != identity.username:
            raise ScimError(400, "userName cannot change.", "mutability")
        services.scim_update_user(provider=provider, identity=identity, **_user_fields(body))
        if "active" in body:
            services.scim_set_active(provider=provider, identity=identity, active=_bool(body["active"]))
    elif request.method == "PATCH":
        _patch_user(provider, identity, body)
    else:
        return scim_error(405, "Method not allowed.")
    identity = _identity(provider, scim_id)
    return _json(user_resource(request, identity))


def _operations(body: dict) -> list[dict]:
    if PATCH_SCHEMA not in (body.get("schemas") or []):
        raise ScimError(400, f"A PATCH body names the schema {PATCH_SCHEMA}.", "invalidSyntax")
    ops = body.get("Operations")
    if not isinstance(ops, list) or not ops or not all(isinstance(o, dict) for o in ops):
        raise ScimError(400, "Operations must be a non-empty list.", "invalidSyntax")
    return ops


def _patch_user(provider, identity, body) -> None:
    changes: dict = {}
    active = None
    for op in _operations(body):
        kind = str(op.get("op", "")).lower()
        if kind not in ("replace", "add"):
            raise ScimError(400, f"The operation {kind!r} is not supported on users.", "invalidValue")
        path, value = op.get("path"), op.get("value")
        items = {path: value} if path else (value if isinstance(value, dict) else None)
        if items is None:
            raise ScimError(400, "An operation without path needs an object value.", "invalidValue")
        for key, val in items.items():
            key_l = str(key).lower()
            if key_l == "active":
                active = _bool(val)
            elif key_l in ("name.givenname", "name.familyname"):
                changes["first_name" if key_l.endswith("givenname") else "last_name"] = str(val or "")
            elif key_l == "name" and isinstance(val, dict):
                changes.update({k: v for k, v in _user_fields({"name": val}).items() if k != "email"})
            elif key_l.startswith("emails"):
                changes["email"] = _user_fields({"emails": val if isinstance(val, list) else [{"value": val}]})[
                    "email"]
            elif key_l == "externalid":
                changes["external_id"] = str(val or "")
            else:
                raise ScimError(400, f"The attribute {key} cannot be changed here.", "invalidPath")
    if changes:
        services.scim_update_user(provider=provider, identity=identity, **changes)
    if active is not None:
        services.scim_set_active(provider=provider, identity=identity, active=active)


# --- Groups --------------------------------------------------------------------------------------------------
def _members(provider, value) -> list[ExternalIdentity]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(m, dict) and m.get("value") for m in value):
        raise ScimError(400, "members is a list of {\"value\": id}.", "invalidValue")
    return [_identity(provider, m["value"]) for m in value]


@scim_view
def groups(request, provider, body):
    if request.method == "GET":
        qs = ScimGroup.objects.filter(provider=provider).prefetch_related("members").order_by("pk")
        return _list(request, qs, {"displayname": "display_name", "externalid": "external_id"}, group_resource)
    if request.method != "POST":
        return scim_error(405, "Method not allowed.")
    group = services.scim_save_group(provider=provider, group=None, display_name=str(body.get("displayName") or ""),
                                     external_id=str(body.get("externalId") or ""),
                                     members=_members(provider, body.get("members")))
    response = _json(group_resource(request, group), 201)
    response["Location"] = request.build_absolute_uri(reverse("scim:group", args=[group.scim_id]))
    return response


@scim_view
def group(request, provider, body, scim_id):
    grp = _group(provider, scim_id)
    if request.method == "GET":
        return _json(group_resource(request, grp))
    if request.method == "DELETE":
        services.scim_delete_group(provider=provider, group=grp)
        return HttpResponse(status=204)
    if request.method == "PUT":
        grp = services.scim_save_group(provider=provider, group=grp,
                                       display_name=str(body.get("displayName") or grp.display_name),
                                       external_id=str(body.get("externalId") or ""),
                                       members=_members(provider, body.get("members")))
    elif request.method == "PATCH":
        for op in _operations(body):
            kind, path, value = str(op.get("op", "")).lower(), str(op.get("path") or ""), op.get("value")
            if kind == "remove" and path.startswith("members[") :
                m = re.match(r'members\[value eq "([^"]+)"\]', path)
                if not m:
                    raise ScimError(400, "Unsupported members filter.", "invalidPath")
                grp = services.scim_change_members(provider=provider, group=grp,
                                                   remove=[_identity(provider, m.group(1))])
            elif kind in ("add", "remove") and path.lower() == "members":
                people = _members(provider, value)
                grp = services.scim_change_members(provider=provider, group=grp, **{kind: people})
            elif kind == "replace" and path.lower() == "members":
                grp = services.scim_save_group(provider=provider, group=grp, display_name=grp.display_name,
                                               external_id=grp.external_id, members=_members(provider, value))
            elif kind == "replace" and (path.lower() == "displayname" or (not path and isinstance(value, dict))):
                name = value if path else (value or {}).get("displayName", grp.display_name)
                grp = services.scim_save_group(provider=provider, group=grp, display_name=str(name or ""),
                                               external_id=grp.external_id)
            else:
                raise ScimError(400, f"The operation {kind} {path} is not supported on groups.", "invalidPath")
    else:
        return scim_error(405, "Method not allowed.")
    grp = _group(provider, scim_id)
    return _json(group_resource(request, grp))


@scim_view
def service_provider_config(request, provider, body):
    return _json({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": True}, "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_COUNT}, "changePassword": {"supported": False},
        "sort": {"supported": False}, "etag": {"supported": False},
        "authenticationSchemes": [{"type": "oauthbearertoken", "name": "Bearer token",
                                   "description": "A token per identity provider, generated by the hub."}],
    })
