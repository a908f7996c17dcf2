"""Shared fixtures: a small organisation with one person per role, and helpers for the permission matrix.

The tree::

    Group hub (hub)
    ├── Europe (region)
    │   ├── France (country, fr)   teams: FR helpers [fr]
    │   └── Spain (country, es)    teams: ES helpers [es]
    └── ModCo (vendor)             teams: ModCo moderation [am, ar, en]
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from dandelion.orgs.choices import Role, TeamKind, UnitKind
from tests.factories import MembershipFactory, OrgUnitFactory, SocialAccountFactory, TeamFactory, UserFactory

REPO_ROOT = Path(__file__).resolve().parent.parent


def datasets_dir() -> Path:
    return Path(os.environ.get("DANDELION_DATASETS", REPO_ROOT.parent / "shared" / "datasets"))


def require_datasets(*parts: str) -> Path:
    """The dataset path; skips (clear reason) when absent, except under CI where it must be there."""
    path = datasets_dir().joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"dataset {path} is required under CI")
        pytest.skip(f"dataset {path} not present (see ../shared/datasets/README.md)")
    return path


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` exercise what only PostgreSQL does (row locks skipped, the scale-out task engine):
    they run in the PostgreSQL pass of `make test` and are deselected, not skipped, in the SQLite one."""
    from django.conf import settings

    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        return
    keep = [item for item in items if item.get_closest_marker("postgres") is None]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in keep])
        items[:] = keep


@pytest.fixture(autouse=True)
def _isolated_var(settings, tmp_path_factory):
    """Keep generated keys out of the developer's var/ during tests."""
    settings.DANDELION_ENCRYPTION_KEYS = ["6xX4Mx7P8PdUakoDqJdrhh0pe5ym4p4Wr2ZiwRgTf9E="]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Nothing cached by one test (ids are reused between tests) is read by the next."""
    from django.core.cache import cache

    from dandelion.core import memo

    cache.clear()
    memo._CONFIG.clear()  # a worker's configuration kept across batches (core.memo.config_memoized)
    yield
    cache.clear()
    memo._CONFIG.clear()


@pytest.fixture
def org(db):
    hub = OrgUnitFactory(name="Group hub", slug="hub", kind=UnitKind.HUB, timezone="Europe/Paris")
    europe = OrgUnitFactory(name="Europe", slug="europe", kind=UnitKind.REGION, parent=hub)
    france = OrgUnitFactory(name="France", slug="france", parent=europe, country="FR", languages=["fr"],
                            timezone="Europe/Paris")
    spain = OrgUnitFactory(name="Spain", slug="spain", parent=europe, country="ES", languages=["es"],
                           timezone="Europe/Madrid")
    vendor = OrgUnitFactory(name="ModCo", slug="modco", kind=UnitKind.VENDOR, parent=hub)
    fr_team = TeamFactory(unit=france, name="FR helpers", kind=TeamKind.HELPERS, languages=["fr"])
    es_team = TeamFactory(unit=spain, name="ES helpers", kind=TeamKind.HELPERS, languages=["es"])
    vendor_team = TeamFactory(unit=vendor, name="ModCo moderation", kind=TeamKind.MODERATION,
                              languages=["am", "ar", "en"])

    def person(username, role, unit, team=None):
        user = UserFactory(username=username)
        MembershipFactory(user=user, unit=unit, role=role, team=team)
        return user

    users = SimpleNamespace(
        hub_admin=person("hubadmin", Role.HUB_ADMIN, hub),
        fr_admin=person("fradmin", Role.SPOKE_ADMIN, france),
        es_admin=person("esadmin", Role.SPOKE_ADMIN, spain),
        europe_admin=person("euadmin", Role.SPOKE_ADMIN, europe),
        fr_cm=person("frcm", Role.COMMUNITY_MANAGER, france),
        fr_agent=person("fragent", Role.HELPER_AGENT, france, fr_team),
        fr_agent2=person("fragent2", Role.HELPER_AGENT, france, fr_team),
        es_agent=person("esagent", Role.HELPER_AGENT, spain, es_team),
        moderator=person("moderator", Role.EXTERNAL_MODERATOR, vendor, vendor_team),
        pr=person("pr", Role.PR_MANAGER, hub),
        analyst=person("analyst", Role.ANALYST, hub),
        nobody=UserFactory(username="nobody"),
    )
    fr_account = SocialAccountFactory(owner_unit=france, network="facebook", handle="@brand_fr",
                                      external_id="fb-fr", languages=["fr"], country="FR")
    es_account = SocialAccountFactory(owner_unit=spain, network="instagram", handle="@brand_es",
                                      external_id="ig-es", languages=["es"], country="ES")
    return SimpleNamespace(
        hub=hub, europe=europe, france=france, spain=spain, vendor=vendor,
        fr_team=fr_team, es_team=es_team, vendor_team=vendor_team,
        users=users, fr_account=fr_account, es_account=es_account,
    )


@pytest.fixture
def client_for(client):
    """``client_for(user)``: a Django test client logged in as ``user``."""

    def make(user):
        from django.test import Client

        c = Client()
        c.force_login(user)
        return c

    return make


@pytest.fixture
def api_for():
    """``api_for(user)``: a DRF APIClient authenticated as ``user`` (token auth, as an integration would)."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def make(user):
        c = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        c.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return c

    return make
