"""Single sign-on provisioning cost, in process on a throwaway SQLite database (or ``--database-url``): a first
sign-in (claims → a new person with two roles, through the organisation's services, audited), a repeat sign-in
(nothing to change), and a SCIM deactivation (``PATCH active=false``: sessions, tokens, three owned accounts
flagged). The tree has 40 spokes, the provider 80 rules. ID token checking is not included (see tests/sso)::

    PYTHONPATH=src .venv/bin/python bench/sso_provision.py [--people 200]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _benchlib as lib


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--people", type=int, default=200)
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()
    var = tempfile.mkdtemp(prefix="dbench-sso-")
    lib.django_setup(args.database_url or f"sqlite:///{var}/bench.sqlite3", var)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(f"machine: {lib.machine()}")

    from django.test import Client

    from dandelion.assets.models import SocialAccount
    from dandelion.core.actors import SYSTEM
    from dandelion.orgs import services as orgs
    from dandelion.sso import services
    from dandelion.sso.models import ExternalIdentity

    hub = orgs.create_unit(actor=SYSTEM, name="Hub", kind="hub", parent=None)
    spokes = [orgs.create_unit(actor=SYSTEM, name=f"Spoke {i}", kind="country", parent=hub) for i in range(40)]
    provider = services.create_provider(actor=SYSTEM, name="IdP", slug="idp", issuer="https://idp.bench",
                                        client_id="c", client_secret="s", bound_unit=hub)
    for spoke in spokes:
        services.create_rule(actor=SYSTEM, provider=provider, value=f"{spoke.slug}-cm", unit=spoke,
                             role="community_manager")
        services.create_rule(actor=SYSTEM, provider=provider, value=f"{spoke.slug}-an", unit=spoke, role="analyst")
    token = services.rotate_scim_token(actor=SYSTEM, provider=provider)

    first, again, deactivate = [], [], []
    for i in range(args.people):
        spoke = spokes[i % len(spokes)]
        claims = {"sub": f"s{i}", "preferred_username": f"p{i}", "email": f"p{i}@bench.example",
                  "groups": [f"{spoke.slug}-cm", spokes[(i + 1) % 40].slug + "-an", "unrelated"]}
        t = time.perf_counter()
        user = services.sign_in(provider=provider, claims=claims)
        first.append(1000 * (time.perf_counter() - t))
        t = time.perf_counter()
        services.sign_in(provider=provider, claims=claims)
        again.append(1000 * (time.perf_counter() - t))
        for k in range(3):
            SocialAccount.objects.create(network="facebook", handle=f"@p{i}-{k}", external_id=f"p{i}-{k}",
                                         owner_unit=spoke, owner=user)
    client = Client()
    body = json.dumps({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                       "Operations": [{"op": "replace", "path": "active", "value": False}]})
    for identity in ExternalIdentity.objects.all():
        t = time.perf_counter()
        r = client.patch(f"/scim/v2/Users/{identity.scim_id}", body, content_type="application/scim+json",
                         HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
        deactivate.append(1000 * (time.perf_counter() - t))
        assert r.status_code == 200, r.content
    assert SocialAccount.objects.filter(owner_left_at__isnull=False).count() == 3 * args.people
    for name, values in (("first sign-in", first), ("repeat sign-in", again), ("SCIM deactivation", deactivate)):
        print(f"{name:>18}: p50 {lib.pct(values, 50):6.1f} ms  p95 {lib.pct(values, 95):6.1f} ms  (n={len(values)})")
    lib.rmtree(var)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
