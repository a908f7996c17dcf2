"""Fixtures for connector tests: accounts, signed bodies, a clean fake store, and the real servers started once per
session for every module that needs them (the local AT Protocol network, Dovecot, the SMTP sink)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.connectors.blueskynet import Network
from tests.connectors.mailserver import DovecotServer, SmtpSink

from dandelion.connectors import fake
from dandelion.connectors.base import AccountRef
from dandelion.connectors.generic import sign

SECRET = "s3cret-webhook-key"
SUPPORT = "support@example.test"
BOXES = 60  # one fresh mailbox per test (users are written once: Dovecot caches its passwd-file by mtime)
PASSWORD = "imap-secret"


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


# --- real servers, one per session (defined here, not in a test module: a fixture imported into several modules
# is a separate fixture in each, and each would start its own server) ------------------------------------------------


@pytest.fixture(scope="session")
def bsky_net():
    try:
        net = Network.start()
    except Exception as exc:  # noqa: BLE001 - reported as the skip/fail reason
        reason = f"the local AT Protocol network could not start: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (required under CI)")
        pytest.skip(reason)
    yield net
    net.stop()


@pytest.fixture(scope="session")
def dovecot():
    # not under pytest's tmp dir: Dovecot's unprivileged processes must be able to traverse to their files
    root = Path(tempfile.mkdtemp(prefix="dandelion-dovecot-"))
    try:
        users = {SUPPORT: PASSWORD, **{f"box{i}@example.test": PASSWORD for i in range(BOXES)}}
        server = DovecotServer.start(root, users)
        yield server
        server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def smtp():
    sink = SmtpSink(username=SUPPORT, password="smtp-secret").start()
    yield sink
    sink.stop()
