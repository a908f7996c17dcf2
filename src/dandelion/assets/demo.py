"""The social accounts of the demo organisation (about forty, across networks, with the problems a real registry
has), seeded after the organisation (``dandelion.core.demo``)."""

from __future__ import annotations

import datetime as dt
import random

from dandelion.core.demo import DemoContext

DEMO_NETWORKS = 6  # the first networks of the connectors' catalogue (no network is named here: habit 6)
ACCOUNT_UNITS = ("france", "spain", "poland", "romania", "belgium", "uk", "egypt", "senegal", "business-services",
                 "group")
OWNERS = {"france": "clara.community", "spain": "sofia.spain", "poland": "piotr.poland", "romania": "ioana.romania",
          "belgium": "wout.belgium", "uk": "oliver.uk", "egypt": "amira.egypt", "senegal": "awa.senegal",
          "business-services": "ben.business", "group": "hana.hub"}

DEMO_CONNECTOR = "sandbox"

def _accounts(units) -> list[dict]:
    from dandelion.assets.networks import network_specs

    # social networks with a public profile page (the catalogue's generic "other" entry has none)
    cycle = [k for k, spec in network_specs().items() if spec.profile_url_template.startswith("http")]
    cycle = cycle[:DEMO_NETWORKS]
    rng = random.Random(7)
    rows: list[dict] = []
    n = 0
    for unit in ACCOUNT_UNITS:
        networks = cycle[:4] if unit not in ("group",) else cycle
        for network in networks:
            n += 1
            if len(rows) >= 42:
                break
            unit_obj = units[unit]
            handle = f"@dandelion_{unit.replace('-', '')}"
            rows.append({
                "network": network,
                "handle": handle,
                "external_id": f"{network}-{unit}-{1000 + n}",
                "display_name": f"Dandelion {unit_obj.name}",
                "unit": unit,
                "owner": OWNERS[unit],
                "languages": list(unit_obj.languages) or ["en"],
                "country": unit_obj.country,
                "followers": rng.randint(2_000, 900_000),
            })
    return rows


def seed(demo: DemoContext) -> None:
    from dandelion.assets.models import SocialAccount

    now = demo.now
    for i, row in enumerate(_accounts(demo.units)):
        if SocialAccount.objects.filter(network=row["network"], external_id=row["external_id"]).exists():
            continue
        account = SocialAccount(
            network=row["network"],
            # demo accounts answer like a network but send nothing: agents can reply and moderate in the demo
            connector=DEMO_CONNECTOR,
            handle=row["handle"],
            external_id=row["external_id"],
            display_name=row["display_name"],
            owner_unit=demo.units[row["unit"]],
            owner=demo.users[row["owner"]],
            languages=row["languages"],
            country=row["country"],
            followers=row["followers"],
            last_activity_at=now - dt.timedelta(hours=i),
        )
        # A realistic registry has problems for the hub to see.
        if i % 11 == 3:
            account.owner = None
        if i % 13 == 5:
            account.status = "dormant"
            account.last_activity_at = now - dt.timedelta(days=75)
        if i % 17 == 6:
            account.credentials_expires_at = now + dt.timedelta(days=5)
        if i == 40:
            account.status = "unclaimed"
            account.owner = None
        account.set_credentials({"access_token": f"demo-token-{i:03d}"} if i % 5 else {})
        account.set_webhook_secret(f"demo-secret-{row['network']}-{row['unit']}")
        account.save()
    demo.counts["accounts"] = SocialAccount.objects.count()
