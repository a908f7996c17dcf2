"""A membership that changes re-derives the websites' editors (after the commit, as the SYSTEM actor); a page
published or unpublished is (re)indexed for its site's search once committed."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.signals import page_published, page_unpublished

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


# --- each site's search: a page published or unpublished is (re)indexed once the transaction commits -------------


def _index_page(page_id: int) -> None:
    from wagtail.models import Page
    from wagtail.search import index

    page = Page.objects.filter(pk=page_id).first()
    if page is not None:  # deleted meanwhile: its post_delete signal took it out of the index already
        index.insert_or_update_object(page.specific)


@receiver(page_published, dispatch_uid="sites.index_published_page")
@receiver(page_unpublished, dispatch_uid="sites.index_unpublished_page")
def reindex_page(sender, instance, **kwargs) -> None:
    """Wagtail's own index update is a background task (``modelsearch``'s, run by the worker); a site's search
    must find a page as soon as it is live, and stop showing its old text as soon as it changes. So the page is
    written into the search index (the database backend: the same database) when the publication commits."""
    page_id = instance.pk
    transaction.on_commit(lambda: _index_page(page_id))


@receiver(page_published, dispatch_uid="sites.share_published_page")
def share_published_page(sender, instance, revision=None, **kwargs) -> None:
    """A page whose editor ticked *announce on social media* becomes a publishing draft once its publication
    commits (whoever published it: the hub approving in the workflow, a service), as the SYSTEM actor."""
    if not getattr(instance, "share_on_publish", False) or revision is None:
        return
    page_id, revision_id = instance.pk, revision.pk

    def share() -> None:
        from dandelion.core.actors import SYSTEM
        from dandelion.sites.services import share_published_page as share_page

        share_page(actor=SYSTEM, page_id=page_id, revision_id=revision_id)

    transaction.on_commit(share)
