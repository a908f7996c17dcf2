"""The websites factory at size: creating a site from the corporate template, and serving a page by hostname
(warm), with S sites of P pages each on PostgreSQL.

    PYTHONPATH=src .venv/bin/python bench/websites_at_size.py --sites 100 --pages 200

Creates the throwaway database ``dandelion_bench_websites`` (dropped at the end unless --keep), migrates it, makes
S spoke units and one site each with ``services.create_site`` (timed: the issue's target is ≤ 5 s a site), fills
each site up to P live pages (children of the home page and of its sections, each with a hero, text and the
official-accounts block), then requests random pages of random sites through Django's full stack (middleware,
host routing, Wagtail's page serving, the registry read of the accounts block) in process: a first pass warms the
caches, the second is timed (target: p95 ≤ 50 ms)."""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _benchlib import django_setup, machine, pct, pg_create, pg_drop

DB = "dandelion_bench_websites"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=100)
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    url = pg_create(DB)
    try:
        run(url, args)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            pg_drop(DB)


def run(url: str, args) -> None:
    django_setup(url)
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["*"]
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrate: {time.perf_counter() - t0:.1f}s")

    from django.contrib.auth import get_user_model
    from django.test import Client

    from dandelion.assets.models import SocialAccount
    from dandelion.orgs.models import Membership, OrgUnit
    from dandelion.sites import services
    from dandelion.sites.models import WebsitePage

    hub = OrgUnit.objects.create(name="Hub", slug="hub", kind="hub")
    admin = get_user_model().objects.create_user("hubadmin", password="x")
    Membership.objects.create(user=admin, unit=hub, role="hub_admin")
    creation, websites = [], []
    for n in range(args.sites):
        unit = OrgUnit.objects.create(name=f"Spoke {n}", slug=f"spoke-{n}", parent=hub)
        SocialAccount.objects.create(network="x", handle=f"@spoke{n}", external_id=f"x-{n}", owner_unit=unit)
        t = time.perf_counter()
        websites.append(services.create_site(actor=admin, unit=unit, template="corporate",
                                             hostname=f"spoke{n}.example.test"))
        creation.append(time.perf_counter() - t)
    print(f"create_site x{args.sites}: p50 {statistics.median(creation) * 1000:.0f} ms, "
          f"p95 {pct(creation, 95) * 1000:.0f} ms, max {max(creation) * 1000:.0f} ms")

    body = [{"type": "hero", "value": {"heading": "Section", "subheading": "News near you"}},
            {"type": "text", "value": "<p>" + "Helpful words about our service. " * 20 + "</p>"},
            {"type": "social_accounts", "value": {"heading": "Follow us", "include_parents": True}}]
    t = time.perf_counter()
    paths: list[tuple[str, str]] = []
    for website in websites:
        home = website.site.root_page
        have = home.get_descendants(inclusive=True).count()
        sections = []
        for i in range(max(0, args.pages - have)):
            parent = home if i % 20 == 0 or not sections else sections[-1]
            page = parent.add_child(instance=WebsitePage(title=f"Page {i}", slug=f"page-{i}", body=body,
                                                         owner=admin))
            if parent is home:
                sections.append(page)
            paths.append((website.hostname, page.url_path[len(home.url_path) - 1:]))
        paths.append((website.hostname, "/"))
    print(f"fill to {args.pages} pages a site: {time.perf_counter() - t:.0f}s "
          f"({WebsitePage.objects.count()} pages in all)")

    client = Client()
    rng = random.Random(21)
    sample = [rng.choice(paths) for _ in range(args.requests)]
    for host, path in sample:  # warm
        assert client.get(path, HTTP_HOST=host).status_code == 200, (host, path)
    times = []
    for host, path in sample:
        t = time.perf_counter()
        resp = client.get(path, HTTP_HOST=host)
        times.append(time.perf_counter() - t)
        assert resp.status_code == 200
    print(f"serve x{len(times)} (warm, in-process, full stack): p50 {statistics.median(times) * 1000:.1f} ms, "
          f"p95 {pct(times, 95) * 1000:.1f} ms, p99 {pct(times, 99) * 1000:.1f} ms")
    print(machine())


if __name__ == "__main__":
    main()
