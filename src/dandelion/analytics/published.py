"""Publishing performance on the dashboards: posts published per account and unit, and the clicks on their short
links, read from the publishing app's rows (analytics sits above publishing in the import layers, so it reads them
directly, read-only; it never writes them).

Scoped like the rollups: the variants are read through ``restrict()`` with the analytics permission (a grant on a
unit covers the posts drafted in its subtree; a team-scoped grant sees none, as posts have no team), then narrowed
by the dashboard's unit, account and network filters. A post counts on the day its variant was sent (UTC days, as
the rollups); its clicks are the short links' running totals, credited to the post's day. Engagement read from the
networks (likes, reposts, replies) is shown only where a connector stored it: today none does, so it stays
``None`` ("not reported"), never 0."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Sum

from dandelion.analytics.reports import Period


def _bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(period.start, dt.time.min, tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=period.days)


def variants_for(user, scope):
    """The sent variants ``user`` may see in ``scope`` (a ``filters.Scope``), over its period. Team and language
    filters narrow nothing here (posts carry neither): the caller says so rather than showing every post."""
    from dandelion.analytics.filters import PERM_VIEW
    from dandelion.publishing.choices import VariantState
    from dandelion.publishing.models import PostVariant

    start, end = _bounds(scope.period)
    qs = PostVariant.objects.restrict(user, PERM_VIEW).filter(
        state=VariantState.SENT, sent_at__gte=start, sent_at__lt=end)
    if scope.unit is not None:
        qs = qs.filter(post__unit__path__startswith=scope.unit.path)
    if scope.account is not None:
        qs = qs.filter(account_id=scope.account.pk)
    if scope.network:
        qs = qs.filter(account__network=scope.network)
    return qs


def applies(scope) -> bool:
    """Whether the publishing figures mean something for ``scope``: not for a team or a language (posts have
    neither), where they would silently be every post of the units instead."""
    return scope.team is None and not scope.language


def performance(user, scope) -> dict:
    """Posts published and short-link clicks in ``scope``: totals, per account, per unit and per day."""
    from dandelion.publishing.models import ShortLink

    variants = variants_for(user, scope)
    per_variant = list(variants.order_by().values(
        "pk", "account_id", "account__handle", "account__network", "post__unit_id", "post__unit__name", "sent_at"))
    ids = [v["pk"] for v in per_variant]
    clicks: dict[int, int] = {}
    links: dict[int, int] = {}
    if ids:
        for row in (ShortLink.objects.filter(variant_id__in=ids).order_by().values("variant_id")
                    .annotate(n=Sum("clicks"), k=Count("pk"))):
            clicks[row["variant_id"]], links[row["variant_id"]] = row["n"] or 0, row["k"]
    accounts: dict[int, dict] = {}
    units: dict[int, dict] = {}
    days: dict[dt.date, dict] = defaultdict(lambda: {"posts": 0, "clicks": 0})
    for v in per_variant:
        c, k = clicks.get(v["pk"], 0), links.get(v["pk"], 0)
        a = accounts.setdefault(v["account_id"], {
            "account_id": v["account_id"], "label": f"{v['account__network']} · {v['account__handle']}",
            "network": v["account__network"], "posts": 0, "links": 0, "clicks": 0, "engagement": None})
        u = units.setdefault(v["post__unit_id"], {
            "unit_id": v["post__unit_id"], "label": v["post__unit__name"], "posts": 0, "links": 0, "clicks": 0,
            "engagement": None})
        for row in (a, u):
            row["posts"] += 1
            row["links"] += k
            row["clicks"] += c
        day = days[v["sent_at"].astimezone(dt.UTC).date()]
        day["posts"] += 1
        day["clicks"] += c
    for row in (*accounts.values(), *units.values()):
        row["clicks_per_post"] = round(row["clicks"] / row["posts"], 2) if row["posts"] else None
    order = (lambda r: (-r["posts"], -r["clicks"], r["label"]))
    series = [{"day": d.isoformat(), **days.get(d, {"posts": 0, "clicks": 0})} for d in scope.period.dates()]
    return {
        "posts": len(per_variant), "clicks": sum(clicks.values()), "links": sum(links.values()),
        "engagement": None,
        "by_account": sorted(accounts.values(), key=order), "by_unit": sorted(units.values(), key=order),
        "series": series,
    }
