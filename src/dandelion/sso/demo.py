"""Demo: the group's identity provider bound to the hub, an agency's bound to its unit, with a few rules
(sign-in needs the provider itself, so the demo shows the configuration and the login buttons)."""

from __future__ import annotations

from dandelion.core.actors import SYSTEM
from dandelion.orgs.models import OrgUnit
from dandelion.sso import services
from dandelion.sso.models import IdentityProvider


def seed(demo) -> None:
    if IdentityProvider.objects.exists():
        return
    hub = OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()
    if hub is None:
        return
    group = services.create_provider(actor=SYSTEM, name="Group Entra ID", slug="entra",
                                     issuer="https://login.microsoftonline.com/00000000-demo/v2.0",
                                     client_id="demo-dandelion", client_secret="demo-secret", bound_unit=hub)
    services.create_rule(actor=SYSTEM, provider=group, value="dandelion-hub-admins", unit=hub, role="hub_admin")
    for unit in OrgUnit.objects.filter(parent__isnull=False, is_active=True).order_by("path")[:4]:
        services.create_rule(actor=SYSTEM, provider=group, value=f"dandelion-{unit.slug}-admins", unit=unit,
                             role="spoke_admin")
        services.create_rule(actor=SYSTEM, provider=group, value=f"dandelion-{unit.slug}-agents", unit=unit,
                             role="community_manager")
    agency = OrgUnit.objects.filter(kind__in=["agency", "vendor"], is_active=True).order_by("path").first()
    if agency is not None:
        vendor = services.create_provider(actor=SYSTEM, name=f"{agency.name} Okta", slug="vendor-okta",
                                          issuer="https://vendor.okta.example/oauth2/default",
                                          client_id="demo-vendor", client_secret="demo-secret", bound_unit=agency)
        services.create_rule(actor=SYSTEM, provider=vendor, value="social-moderators", unit=agency,
                             role="community_manager")
