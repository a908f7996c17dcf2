"""Two spoke websites for the demo, reachable locally: http://france.localhost:8000/ and http://spain.localhost:8000/
(``*.localhost`` is the machine itself; both are in ALLOWED_HOSTS by default)."""

from __future__ import annotations

from dandelion.core.demo import DemoContext

DEMO_SITES = (("france", "france.localhost", "France"), ("spain", "spain.localhost", "España"))


def seed(demo: DemoContext) -> None:
    from dandelion.core.actors import SYSTEM
    from dandelion.sites import services
    from dandelion.sites.defaults import install_base
    from dandelion.sites.models import UnitSite

    template = install_base()
    made = 0
    for slug, hostname, name in DEMO_SITES:
        if UnitSite.objects.filter(site__hostname=hostname).exists() or slug not in demo.units:
            continue
        services.create_site(actor=demo.hub_admin or SYSTEM, unit=demo.units[slug], template=template, hostname=hostname,
                             site_name=name)
        made += 1
    services.sync_site_permissions(actor=SYSTEM)
    demo.counts["websites"] = UnitSite.objects.count()
