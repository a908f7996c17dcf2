"""Fixtures of the single sign-on tests: a REAL OpenID Connect provider (npm's oidc-provider, certified), two of
them in fact (the group's and an agency's: one issuer each), started once per session on free local ports.

``npm ci`` installs it into ``tests/sso/oidc/node_modules`` the first time (the npm registry is reachable from
developers' machines and CI; ``.ci/run`` installs it up front). Without Node the tests skip, except under CI."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from dandelion.core.actors import SYSTEM
from dandelion.orgs.choices import Role
from dandelion.sso import services

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
SECRET = "test-client-secret-0123456789"
ACCOUNTS = {
    "alice": {"email": "alice@example.org", "email_verified": True, "preferred_username": "alice",
              "given_name": "Alice", "family_name": "Martin", "groups": ["fr-helpers", "staff"]},
    "bob": {"email": "bob@example.org", "preferred_username": "bob", "groups": ["staff"]},
    "victor": {"email": "victor@vendor.example", "preferred_username": "victor", "groups": ["fr-helpers"]},
}


def _require_node() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        if os.environ.get("CI") == "true":
            pytest.fail("Node.js and npm are required under CI (apt-get install nodejs npm)")
        pytest.skip("Node.js/npm not installed: the real OpenID provider cannot run")
    if not (OIDC_DIR / "node_modules" / "oidc-provider").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=OIDC_DIR, check=True,
                       timeout=300)
    return node


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(node: str, slug: str, base_urls: list[str]) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    config = {"port": port, "accounts": ACCOUNTS, "clients": [{
        "client_id": f"dandelion-{slug}", "client_secret": SECRET, "grant_types": ["authorization_code"],
        "redirect_uris": [f"{base}/sso/{slug}/callback/" for base in base_urls],
        "token_endpoint_auth_method": "client_secret_basic"}]}
    proc = subprocess.Popen([node, "server.mjs"], cwd=OIDC_DIR, env={**os.environ,
                            "OIDC_TEST_CONFIG": json.dumps(config)}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    issuer = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"oidc-provider exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                return proc, issuer
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("oidc-provider did not start in 30 s")


@pytest.fixture(scope="session")
def oidc_servers(live_server):
    """Two running OpenID providers: ``group`` and ``agency`` (issuer URLs), accepting callbacks on the test
    client's host and on the live server."""
    node = _require_node()
    bases = ["http://testserver", live_server.url]
    procs, issuers = [], {}
    try:
        for slug in ("group", "agency"):
            proc, issuer = _start(node, slug, bases)
            procs.append(proc)
            issuers[slug] = issuer
        yield SimpleNamespace(**issuers)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.fixture
def providers(org, oidc_servers):
    """The group's provider bound to Europe (alice's ``fr-helpers`` → helper agent in FR helpers), the agency's
    bound to ModCo (``fr-helpers`` there maps to ModCo's team: it cannot reach France)."""
    group = services.create_provider(actor=SYSTEM, name="Group IdP", slug="group", issuer=oidc_servers.group,
                                     client_id="dandelion-group", client_secret=SECRET, bound_unit=org.europe,
                                     scopes="openid email profile groups")
    services.create_rule(actor=SYSTEM, provider=group, value="fr-helpers", unit=org.france,
                         role=Role.HELPER_AGENT, team=org.fr_team)
    agency = services.create_provider(actor=SYSTEM, name="Agency IdP", slug="agency", issuer=oidc_servers.agency,
                                      client_id="dandelion-agency", client_secret=SECRET, bound_unit=org.vendor,
                                      scopes="openid email profile groups")
    services.create_rule(actor=SYSTEM, provider=agency, value="fr-helpers", unit=org.vendor,
                         role=Role.EXTERNAL_MODERATOR, team=org.vendor_team)
    return SimpleNamespace(group=group, agency=agency)


def sign_in_at_provider(authorize_url: str, login: str, *, callback_prefix: str = "http://testserver") -> str:
    """Play the person at the provider's own pages (its login form, then its consent form), following its
    redirects by hand; returns the callback URL (with ``code`` and ``state``) the provider sends the browser to."""
    import re

    s = requests.Session()
    url, method, data = authorize_url, "GET", None
    for _ in range(20):
        r = s.request(method, url, data=data, allow_redirects=False, timeout=10)
        if r.is_redirect:
            url, method, data = requests.compat.urljoin(url, r.headers["Location"]), "GET", None
            if url.startswith(callback_prefix):
                return url
            continue
        form = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', r.text, re.DOTALL)
        assert form, f"no form at {url}: {r.status_code} {r.text[:300]}"
        fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form.group(2)))
        if 'name="login"' in form.group(2):
            fields.update({"login": login, "password": "any"})
        url, method, data = form.group(1), "POST", fields
    raise AssertionError("the provider never redirected back")
