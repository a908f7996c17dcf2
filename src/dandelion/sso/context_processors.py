"""The login page's "Sign in with …" buttons and whether the password form is shown."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse


def login_providers(request) -> dict:
    if getattr(request, "resolver_match", None) is None or request.resolver_match.url_name != "login":
        return {}
    from dandelion.sso.models import IdentityProvider

    next_url = request.GET.get("next", "")
    providers = [
        {"name": p.name, "url": reverse("sso:start", args=[p.slug]) + (f"?next={next_url}" if next_url else "")}
        for p in IdentityProvider.objects.filter(is_active=True).only("name", "slug").order_by("name")
    ]
    return {"login_providers": providers,
            "local_passwords": getattr(settings, "DANDELION_LOCAL_PASSWORDS", True)}
