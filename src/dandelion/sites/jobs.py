"""The websites' jobs: the broken-link check of one site (enqueued from its page) and of every site, daily.

Idempotent: each run replaces the site's findings (``services.check_site_links``); a site deleted meanwhile is
skipped."""

from __future__ import annotations

from django_tasks import task

from dandelion.core.jobs import periodic


@task()
def check_site_links(website_id: int) -> dict:
    from dandelion.core.actors import SYSTEM
    from dandelion.sites import services
    from dandelion.sites.models import UnitSite

    website = UnitSite.objects.select_related("unit", "site__root_page").filter(pk=website_id).first()
    if website is None:
        return {"website": website_id, "skipped": True}
    findings = services.check_site_links(actor=SYSTEM, website=website)
    return {"website": website_id, "broken": len(findings)}


@periodic("sites.check_links", every=24 * 3600)
@task()
def check_all_site_links() -> dict:
    """Every active unit's website, one after the other: a site that fails is logged and the others still run."""
    import logging

    from dandelion.core.actors import SYSTEM
    from dandelion.sites import services
    from dandelion.sites.models import UnitSite

    done, failed = 0, 0
    for website in UnitSite.objects.select_related("unit", "site__root_page").filter(unit__is_active=True):
        try:
            services.check_site_links(actor=SYSTEM, website=website)
            done += 1
        except Exception:  # one site's failure never stops the others
            logging.getLogger(__name__).exception("link check of %s failed", website.hostname)
            failed += 1
    return {"checked": done, "failed": failed}


@task()
def fetch_blog_comments(account_id: int) -> dict:
    """Bring a website's new blog comments into the inbox now (after a visitor commented): a poll of the site's
    comments account, which the inbox deduplicates by comment id (safe to run twice)."""
    from dandelion.inbox.polling import poll_account

    outcome = poll_account(account_id)
    return {"account": account_id, "events": outcome.events, "error": outcome.error}
