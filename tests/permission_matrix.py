"""The permission matrix: one helper for every app's tests, roles × objects × actions, UI views and API endpoints.

A :class:`Case` is one action on one object (or one list, one creation): a URL, a method, optional data, and the
status each role of the ``org`` fixture (``tests/conftest.py``) must get. :func:`check` plays the case as every
role, each request in a transaction rolled back afterwards (what one role does never changes what the next one
sees), and compares the whole table at once, so a failure shows every role that is wrong. On top of the status it
checks, for every role:

* **existence does not leak**: where a role is refused (any 4xx but 403, which is for objects the role can see), the
  same request about an object that does not exist (``missing_url`` / ``missing_data``) gets the same answer, the
  same status and, for the API, the same body once numbers are blanked;
* **denials name nothing unseen**: a refusal (4xx) names no org unit and no team the role may not view.

Usage (``tests/<app>/test_matrix.py``)::

    CASES = [
        Case("account detail", lambda w: w.fr_account.get_absolute_url(), outcome(ok=IN_FRANCE),
             missing_url=lambda w: reverse("assets:account-detail", args=[MISSING])),
        Case("api create account", lambda w: "/api/v1/accounts/", outcome(ok=ADMINS_OF_FRANCE, ok_status=201),
             method="post", api=True, data=lambda w: {...}),
    ]

    @pytest.mark.parametrize("case", CASES, ids=str)
    def test_matrix(case, org):
        check(case, org)

Roles (``ROLES``): the people of the ``org`` fixture plus ``anonymous``. Expectations are built with
:func:`outcome`: roles in ``ok`` get ``ok_status``, roles in ``visible`` (by default: every role with a grant in
France's subtree or above) but not in ``ok`` get 403, everyone else 404; ``anonymous`` gets the login redirect
(UI) or 401 (API). Any role can be overridden by name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction

#: Every role of the ``org`` fixture, and an anonymous visitor.
ROLES: tuple[str, ...] = ("hub_admin", "europe_admin", "fr_admin", "es_admin", "fr_cm", "fr_agent", "es_agent",
                          "moderator", "pr", "analyst", "nobody", "anonymous")
PEOPLE = frozenset(ROLES) - {"anonymous"}

#: Roles whose grant covers France (their unit is France or one of its ancestors).
IN_FRANCE = frozenset({"hub_admin", "europe_admin", "fr_admin", "fr_cm", "fr_agent", "pr", "analyst"})
#: Roles whose grant covers Spain.
IN_SPAIN = frozenset({"hub_admin", "europe_admin", "es_admin", "es_agent", "pr", "analyst"})
#: Admins whose grant covers France (spoke admins of France and Europe, the hub admin).
ADMINS_OF_FRANCE = frozenset({"hub_admin", "europe_admin", "fr_admin"})
#: Read-only roles on the whole organisation.
READ_ONLY = frozenset({"pr", "analyst"})

#: A primary key no row has.
MISSING = 987_654


class Expect(dict):
    """Role → expected status, remembering which roles are allowed to act (``ok``): the existence check compares
    the answers about a real and a missing object only for the others."""

    def __init__(self, table: Mapping[str, int], ok: Iterable[str] = ()):
        super().__init__(table)
        self.ok = frozenset(ok)


def outcome(ok: Iterable[str], *, visible: Iterable[str] = IN_FRANCE, ok_status: int = 200,
            **overrides: int) -> Expect:
    """The expected status per role: ``ok`` → ``ok_status``, ``visible`` but not ``ok`` → 403, others → 404.

    ``anonymous`` is left out: :func:`check` fills in the login redirect (UI) or 401 (API). ``overrides`` set a
    role's status by name (``es_admin=400``)."""
    ok, visible = frozenset(ok), frozenset(visible) | frozenset(ok)
    unknown = (ok | visible | set(overrides)) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    table = {role: ok_status if role in ok else 403 if role in visible else 404 for role in PEOPLE}
    table.update(overrides)
    return Expect(table, ok)


@dataclass(frozen=True)
class Case:
    """One action on one object, played as every role. Callables receive the world (the ``org`` fixture, or an
    app's namespace with ``users`` and its objects)."""

    name: str
    url: Callable[[Any], str]
    expect: Mapping[str, int]
    method: str = "get"
    data: Callable[[Any], Any] | None = None
    api: bool = False
    #: The same request about an object that does not exist (the existence check): URL and/or data.
    missing_url: Callable[[Any], str] | None = None
    missing_data: Callable[[Any], Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name

    def expected(self) -> dict[str, int]:
        table = dict(self.expect)
        table.setdefault("anonymous", 401 if self.api else 302)
        return table

    def refused(self, role: str, status: int) -> bool:
        """Is ``role`` refused here (its answer must not depend on whether the object exists)? A 403 is for
        objects the role can see: it is not compared."""
        if role == "anonymous":
            return True
        ok = getattr(self.expect, "ok", None)
        if ok is not None:
            return role not in ok and status != 403
        return status >= 400 and status != 403


def _client(user, api: bool):
    if api:
        from rest_framework.authtoken.models import Token
        from rest_framework.test import APIClient

        client = APIClient(raise_request_exception=False)
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client
    from django.test import Client

    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def _send(client, case: Case, url: str, data: Any):
    """One request, rolled back afterwards."""
    method = getattr(client, case.method)
    kwargs: dict[str, Any] = {"headers": dict(case.headers)} if case.headers else {}
    if case.api and case.method != "get":
        kwargs["format"] = "json"
    with transaction.atomic():
        response = method(url, data, **kwargs) if data is not None else method(url, **kwargs)
        transaction.set_rollback(True)
    return response


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return ""
    return response.content.decode("utf-8", "replace")


def _normalised(response) -> str:
    """The body with numbers blanked (ids differ between the real and the missing object)."""
    body = _body(response)
    if response.get("Content-Type", "").startswith("application/json"):
        try:
            body = json.dumps(json.loads(body), sort_keys=True)
        except ValueError:
            pass
    return re.sub(r"\d+", "#", body)


def unseen_names(user) -> set[str]:
    """Names of the org units and teams ``user`` may not view (all of them for an anonymous visitor)."""
    from dandelion.orgs.models import OrgUnit, Team

    units = OrgUnit.objects.all()
    teams = Team.objects.all()
    if user is not None:
        units = units.exclude(pk__in=OrgUnit.objects.restrict(user, "view").values("pk"))
        teams = teams.exclude(pk__in=Team.objects.restrict(user, "view").values("pk"))
    return set(units.values_list("name", flat=True)) | set(teams.values_list("name", flat=True))


def named(body: str, names: Iterable[str]) -> list[str]:
    return sorted(n for n in names if re.search(rf"(?<![\w/]){re.escape(n)}(?![\w/])", body))


def check(case: Case, world) -> None:
    """Play ``case`` as every role and assert the whole matrix (status, existence, names in denials)."""
    expected = case.expected()
    missing_roles = set(ROLES) - set(expected)
    assert not missing_roles, f"{case}: no expectation for {sorted(missing_roles)}"
    actual: dict[str, int] = {}
    problems: list[str] = []
    for role in ROLES:
        user = None if role == "anonymous" else getattr(world.users, role)
        client = _client(user, case.api)
        url, data = case.url(world), case.data(world) if case.data else None
        response = _send(client, case, url, data)
        actual[role] = response.status_code
        status = response.status_code
        if 400 <= status < 500:
            leaked = named(_body(response), unseen_names(user))
            if leaked:
                problems.append(f"{role}: the {status} answer names {leaked}, which {role} may not see")
        if (case.missing_url or case.missing_data) and case.refused(role, status):
            other_url = case.missing_url(world) if case.missing_url else url
            other_data = case.missing_data(world) if case.missing_data else data
            other = _send(client, case, other_url, other_data)
            if other.status_code != status:
                problems.append(f"{role}: {status} for the object but {other.status_code} for a missing one")
            elif case.api and _normalised(other) != _normalised(response):
                problems.append(f"{role}: the answers differ for the object and a missing one:\n"
                                f"    {_body(response)[:300]}\n    {_body(other)[:300]}")
    wrong = {r: (expected[r], actual[r]) for r in ROLES if expected[r] != actual[r]}
    if wrong:
        problems.insert(0, "status (expected, got): " + ", ".join(f"{r}={e}->{a}" for r, (e, a) in wrong.items()))
    if problems:
        pytest.fail(f"{case.method.upper()} {case.name}:\n  " + "\n  ".join(problems), pytrace=False)
