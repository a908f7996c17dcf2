"""A membership that changes re-derives the websites' editors (after the commit, as the SYSTEM actor)."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from dandelion.orgs.models import Membership


def _resync() -> None:
    from dandelion.core.actors import SYSTEM
    from dandelion.sites.models import UnitSite
    from dandelion.sites.services import sync_site_permissions

    if UnitSite.objects.exists():
        sync_site_permissions(actor=SYSTEM)


@receiver(post_save, sender=Membership, dispatch_uid="sites.membership_saved")
@receiver(post_delete, sender=Membership, dispatch_uid="sites.membership_deleted")
def membership_changed(sender, **kwargs) -> None:
    transaction.on_commit(_resync)
