"""The registry's figures for the organisation's pages (declared on ``AssetsConfig``: ``unit_figures`` for the
tree roll-up, ``unit_page`` for a unit's page), so the organisation app reads no account itself."""

from __future__ import annotations

from django.db.models import Count, Q

from dandelion.assets.choices import AccountStatus, HealthFlag
from dandelion.assets.models import SocialAccount


def unit_figures(user, units) -> dict[int, dict[str, int]]:
    """Per unit of ``units`` (a queryset of visible units), the counts of its own accounts ``user`` may see, and of
    those with a problem; one aggregate query."""
    health = SocialAccount.objects.health_q
    rows = (
        SocialAccount.objects.restrict(user, "view").filter(owner_unit__in=units.order_by().values("pk"))
        .exclude(status=AccountStatus.ARCHIVED)
        .values("owner_unit_id")
        .annotate(
            n=Count("id"),
            no_owner=Count("id", filter=Q(owner__isnull=True)),
            owner_off=Count("id", filter=Q(owner__is_active=False)),
            credentials=Count("id", filter=health(HealthFlag.CREDENTIALS_EXPIRING) | health(
                HealthFlag.CREDENTIALS_EXPIRED)),
            dormant=Count("id", filter=health(HealthFlag.DORMANT)),
            connector_error=Count("id", filter=health(HealthFlag.CONNECTOR_ERROR)),
        )
        .order_by()
    )
    return {row["owner_unit_id"]: {
        "accounts": row["n"], "accounts_without_owner": row["no_owner"], "accounts_owner_deactivated": row["owner_off"],
        "accounts_credentials_expiring": row["credentials"], "accounts_dormant": row["dormant"],
        "accounts_connector_error": row["connector_error"]} for row in rows}


def unit_page(user, unit) -> dict:
    """A unit's page: its subtree's accounts by status, and up to 25 accounts without a (active) owner."""
    accounts = SocialAccount.objects.restrict(user, "view").filter(owner_unit__path__startswith=unit.path)
    problem_accounts = (
        accounts.exclude(status="archived")
        .filter(Q(owner__isnull=True) | Q(owner__is_active=False))
        .select_related("owner", "owner_unit")
        .order_by("owner_unit__path", "handle")[:25]
    )
    return {"accounts_by_status": accounts.values("status").annotate(n=Count("id")).order_by("status"),
            "problem_accounts": problem_accounts}
