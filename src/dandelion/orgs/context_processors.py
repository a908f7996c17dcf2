"""Puts the current guideline version in every page when the signed-in person has not acknowledged it yet."""

from __future__ import annotations


def guidelines(request):
    """``pending_guideline``: the current version, for people who may read it and have not acknowledged it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from dandelion.orgs.models import Guideline

    current = (
        Guideline.objects.restrict(user, "view")  # people without any role have nothing to acknowledge
        .filter(published_at__isnull=False)
        .order_by("-version")
        .first()
    )
    if current is None or current.acknowledgements.filter(user=user).exists():
        return {}
    return {"pending_guideline": current}
