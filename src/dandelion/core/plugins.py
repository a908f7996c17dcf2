"""Apps plug themselves in: each domain app's ``AppConfig`` declares what it adds to the whole.

A domain app subclasses :class:`DandelionAppConfig` and declares, on the class:

* ``nav``: its navigation entries (:class:`NavEntry`: a lazily translated label, a url name, an order, and whether
  people whose every grant is team-scoped, external moderators, see it);
* ``role_grants``: per role, the permission globs this app contributes (``{"helper_agent": ("inbox.*",)}``);
* ``api_routes``: its REST routes (:class:`ApiRoute`: prefix, dotted path of the viewset, basename), mounted under
  ``/api/v1/`` by one router (``dandelion.api.urls``);
* ``urls`` / ``url_prefix``: its HTML urls module (default ``<app>.urls`` mounted at ``<label>/``) and
  ``extra_urls`` for other mounts (``(("hooks/", "dandelion.inbox.hooks"),)``);
* ``audit_filter``: whether its models are offered in the audit log's "object type" filter;
* :meth:`DandelionAppConfig.retention_policies`: its retention policies (``dandelion.core.retention``);
* ``org_tree``: (one app, ``orgs``) the dotted path of the module answering what core asks of the organisation
  tree (``grants_for(user)``, ``root_unit()``, ``unit_path(pk)``, ``unit_paths(pks)``, ``role_label(role)``): core imports no app;
* ``unit_figures`` / ``unit_page``: dotted paths of functions adding the app's figures to the organisation tree's
  roll-up and context to a unit's page (the registry's accounts), so the organisation app imports no other app; a
  ``unit_page`` result may name templates under ``"unit_panels"``, included in the page's side column;
* ``demo_seed`` / ``demo_after``: the dotted path of the function seeding its part of the demo organisation, and
  the labels of the apps whose seeds must run first.

The functions below collect these from ``django.apps.apps.get_app_configs()`` (in ``INSTALLED_APPS`` order), cached
until ``INSTALLED_APPS`` changes. Adding an app touches ``INSTALLED_APPS`` and nothing else central.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from importlib.util import find_spec
from typing import Any

from django.apps import AppConfig, apps
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class NavEntry:
    """One item of the main navigation."""

    label: Any  # a lazily translated string (gettext_lazy)
    url_name: str
    order: int = 100
    team_scoped: bool = False  # shown to people whose every grant is team-scoped (external moderators)
    perm: str | None = None  # shown only to people holding this permission somewhere (e.g. a hub-only page)


@dataclass(frozen=True)
class ApiRoute:
    """One router registration under ``/api/v1/``; the viewset is a dotted path, imported when the urls load."""

    prefix: str
    viewset: str
    basename: str


class DandelionAppConfig(AppConfig):
    """The base of every Dandelion domain app's ``AppConfig`` (see the module)."""

    nav: tuple[NavEntry, ...] = ()
    role_grants: Mapping[str, tuple[str, ...]] = {}
    api_routes: tuple[ApiRoute, ...] = ()
    urls: str | None = ""  # "" means "<name>.urls" when that module exists; None means no HTML urls
    url_prefix: str | None = None  # None means "<label>/"
    extra_urls: tuple[tuple[str, str], ...] = ()
    audit_filter: bool = True
    demo_seed: str | None = None
    demo_after: tuple[str, ...] = ()
    org_tree: str | None = None
    unit_figures: str | None = None  # f(user, units queryset) -> {unit id: {figure: n}} for the tree roll-up
    unit_page: str | None = None  # f(user, unit) -> extra context for a unit's page
    # f(user, incident) -> extra context for a crisis room's page; its "incident_panels" (template names) are
    # included in the room's side column: how an app adds its own actions to the room without crisis importing it
    incident_page: str | None = None

    def retention_policies(self) -> tuple:
        """This app's :class:`dandelion.core.retention.Policy` objects (override; none by default)."""
        return ()

    # resolved declarations -------------------------------------------------------------------------------------
    def urls_module(self) -> str | None:
        if self.urls is None:
            return None
        name = self.urls or f"{self.name}.urls"
        return name if _has_module(name) else None

    def mount_prefix(self) -> str:
        return f"{self.label}/" if self.url_prefix is None else self.url_prefix


def _has_module(name: str) -> bool:
    try:
        return find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def dandelion_apps() -> Iterator[DandelionAppConfig]:
    """The installed Dandelion apps, in ``INSTALLED_APPS`` order."""
    for config in apps.get_app_configs():
        if isinstance(config, DandelionAppConfig):
            yield config


@cache
def navigation_entries() -> tuple[NavEntry, ...]:
    entries = [entry for config in dandelion_apps() for entry in config.nav]
    return tuple(sorted(entries, key=lambda e: e.order))  # stable: equal orders keep INSTALLED_APPS order


@cache
def contributed_grants() -> dict[str, tuple[str, ...]]:
    """Per role, the permission globs the installed apps contribute (in ``INSTALLED_APPS`` order, no repeats)."""
    merged: dict[str, list[str]] = {}
    for config in dandelion_apps():
        for role, patterns in config.role_grants.items():
            bucket = merged.setdefault(role, [])
            bucket.extend(p for p in patterns if p not in bucket)
    return {role: tuple(patterns) for role, patterns in merged.items()}


@cache
def api_routes() -> tuple[ApiRoute, ...]:
    return tuple(route for config in dandelion_apps() for route in config.api_routes)


@cache
def retention_policies() -> tuple:
    from dandelion.core.retention import check

    return tuple(check(policy) for config in dandelion_apps() for policy in config.retention_policies())


@cache
def org_tree():
    """The organisation tree provider (see ``DandelionAppConfig.org_tree``); exactly one installed app gives it."""
    found = [config.org_tree for config in dandelion_apps() if config.org_tree]
    if len(found) != 1:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"Exactly one installed app must declare org_tree (found {len(found)}).")
    return import_module(found[0])


def unit_figure_sources() -> list[Callable[..., Any]]:
    return [import_string(c.unit_figures) for c in dandelion_apps() if c.unit_figures]


def unit_page_sources() -> list[Callable[..., Any]]:
    return [import_string(c.unit_page) for c in dandelion_apps() if c.unit_page]


def incident_page_sources() -> list[Callable[..., Any]]:
    return [import_string(c.incident_page) for c in dandelion_apps() if c.incident_page]


def audit_app_labels() -> list[str]:
    return [config.label for config in dandelion_apps() if config.audit_filter]


def demo_seeds() -> list[tuple[str, Callable[..., Any]]]:
    """``(label, seed)`` of every app with a demo seed, each after the apps named in its ``demo_after``."""
    seeding = {config.label: config for config in dandelion_apps() if config.demo_seed}
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(label: str) -> None:
        if label in ordered:
            return
        if label in visiting:
            raise ValueError(f"Demo seeds depend on each other in a cycle through {label!r}.")
        visiting.add(label)
        for before in seeding[label].demo_after:
            if before in seeding:  # an app without a seed (or not installed) has nothing to wait for
                visit(before)
        visiting.discard(label)
        ordered.append(label)

    for label in seeding:
        visit(label)
    return [(label, import_string(str(seeding[label].demo_seed))) for label in ordered]


def api_router():
    """One DRF router holding every installed app's API routes."""
    from rest_framework.routers import SimpleRouter

    router = SimpleRouter()
    for route in api_routes():
        router.register(route.prefix, import_string(route.viewset), basename=route.basename)
    return router


def ui_url_mounts() -> list[tuple[str, str]]:
    """``(prefix, urls module)`` for every installed app's HTML urls and extra mounts."""
    mounts = []
    for config in dandelion_apps():
        module = config.urls_module()
        if module:
            mounts.append((config.mount_prefix(), module))
        mounts.extend(config.extra_urls)
    return mounts


def clear_caches() -> None:
    for fn in (navigation_entries, contributed_grants, api_routes, retention_policies, org_tree):
        fn.cache_clear()
    from dandelion.core import permissions

    permissions.clear_role_cache()


@receiver(setting_changed)
def _installed_apps_changed(*, setting, **kwargs) -> None:
    if setting == "INSTALLED_APPS":
        clear_caches()


__all__ = ["ApiRoute", "DandelionAppConfig", "NavEntry", "api_router", "api_routes", "audit_app_labels",
           "clear_caches", "contributed_grants", "dandelion_apps", "demo_seeds",
           "navigation_entries", "org_tree", "ui_url_mounts", "unit_figure_sources",
           "unit_page_sources"]
