"""Fixtures for connector tests: accounts, signed bodies, and a clean fake store."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from dandelion.connectors import fake
from dandelion.connectors.base import AccountRef
from dandelion.connectors.generic import sign

SECRET = "s3cret-webhook-key"


@pytest.fixture
def account() -> AccountRef:
    return AccountRef(
        id=7,
        network="facebook",
        external_id="fb-fr",
        handle="@brand_fr",
        credentials={"access_token": "tok"},
        config={},
        webhook_secret=SECRET,
        connector="generic",
    )


@pytest.fixture
def signed() -> Callable[[Any], tuple[bytes, dict[str, str]]]:
    """``signed(payload)`` -> ``(body, headers)`` signed with ``SECRET`` (payload may already be bytes)."""

    def make(payload: Any, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return body, {"Content-Type": "application/json", "X-Dandelion-Signature": sign(body, secret)}

    return make


@pytest.fixture(autouse=True)
def _clean_fake():
    fake.reset()
    yield
    fake.reset()
