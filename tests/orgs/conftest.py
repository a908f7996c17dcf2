"""Fixtures for the organisation's tests (on top of the shared ``org`` fixture in tests/conftest.py)."""

from __future__ import annotations

import pytest

from dandelion.orgs import services


@pytest.fixture
def guideline(org):
    """A published v1 of the guidelines, nobody has acknowledged it yet."""
    draft = services.create_guideline(actor=org.users.hub_admin, title="Group guidelines", body="# Be kind\n\nAlways.")
    return services.publish_guideline(actor=org.users.hub_admin, guideline=draft)


@pytest.fixture
def anon_client():
    from django.test import Client

    return Client()


@pytest.fixture
def anon_api():
    from rest_framework.test import APIClient

    return APIClient()
