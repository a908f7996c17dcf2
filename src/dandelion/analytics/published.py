"""Publishing performance on the dashboards: posts published per account and unit, and the clicks on their short
links, read from the publishing app's rows (analytics sits above publishing in the import layers, so it reads them
directly, read-only; it never writes them).

Scoped like the rollups: the variants are read through ``restrict()`` with the analytics permission (a grant on a
unit covers the posts drafted in its subtree; a team-scoped grant sees none, as posts have no team), then narrowed
by the dashboard's unit, account and network filters. A post counts on the day its variant was sent (UTC days, as
the rollups); its clicks are the short links' running totals, credited to the post's day. Engagement read from the
networks (likes, replies, reposts: ``PostEngagementDay``, stored by ``services.collect_network_metrics``) is each
post's latest reading on or before the period's last day, credited to the post's day like its clicks; a post no
connector reported stays ``None`` ("not reported"), never 0. Followers are each account's latest reading
(``AccountMetricsDay``) on or before the period's last day."""

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
    if getattr(scope, "campaign", None) is not None:
        qs = qs.filter(post__campaign_id=scope.campaign.pk)
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
    engagement = engagement_by_variant(ids, scope.period.end)
    followers = followers_by_account({v["account_id"] for v in per_variant}, scope.period.end)
    clicks: dict[int, int] = {}
    links: dict[int, int] = {}
    if ids:
        for row in (ShortLink.objects.filter(variant_id__in=ids).order_by().values("variant_id")
                    .annotate(n=Sum("clicks"), k=Count("pk"))):
            clicks[row["variant_id"]], links[row["variant_id"]] = row["n"] or 0, row["k"]
    accounts: dict[int, dict] = {}
    units: dict[int, dict] = {}
    total = _zero_engagement()
    days: dict[dt.date, dict] = defaultdict(lambda: {"posts": 0, "clicks": 0})
    for v in per_variant:
        c, k = clicks.get(v["pk"], 0), links.get(v["pk"], 0)
        a = accounts.setdefault(v["account_id"], {
            "account_id": v["account_id"], "label": f"{v['account__network']} · {v['account__handle']}",
            "network": v["account__network"], "followers": followers.get(v["account_id"]),
            **_zero_engagement()})
        u = units.setdefault(v["post__unit_id"], {
            "unit_id": v["post__unit_id"], "label": v["post__unit__name"], **_zero_engagement()})
        e = engagement.get(v["pk"])
        for row in (a, u):
            row["posts"] += 1
            row["links"] += k
            row["clicks"] += c
            _add_engagement(row, e)
        day = days[v["sent_at"].astimezone(dt.UTC).date()]
        day["posts"] += 1
        day["clicks"] += c
        _add_engagement(total, e)
    for row in (*accounts.values(), *units.values()):
        row["clicks_per_post"] = round(row["clicks"] / row["posts"], 2) if row["posts"] else None
        row["engagement_per_post"] = (round(row["engagement"] / row["reported_posts"], 2)
                                      if row["reported_posts"] else None)
        if row.get("followers"):
            row["engagement_per_follower_per_post"] = (
                None if row["engagement_per_post"] is None else round(row["engagement_per_post"] / row["followers"], 6))
    order = (lambda r: (-r["posts"], -r["clicks"], r["label"]))
    series = [{"day": d.isoformat(), **days.get(d, {"posts": 0, "clicks": 0})} for d in scope.period.dates()]
    return {
        "posts": len(per_variant), "clicks": sum(clicks.values()), "links": sum(links.values()),
        "engagement": total["engagement"], "likes": total["likes"], "replies": total["replies"],
        "reposts": total["reposts"], "reported_posts": total["reported_posts"],
        "by_account": sorted(accounts.values(), key=order), "by_unit": sorted(units.values(), key=order),
        "series": series,
    }


ENGAGEMENT_FIGURES = ("likes", "replies", "reposts")


def _zero_engagement() -> dict:
    """A row's counters; the engagement figures stay None until a post with a reading is added."""
    return {"posts": 0, "links": 0, "clicks": 0, "engagement": None, "likes": None, "replies": None,
            "reposts": None, "reported_posts": 0}


def _add_engagement(row: dict, reading: dict | None) -> None:
    if reading is None:
        return
    row["reported_posts"] += 1
    for name in (*ENGAGEMENT_FIGURES, "engagement"):
        if reading[name] is not None:
            row[name] = (row[name] or 0) + reading[name]


def engagement_by_variant(variant_ids: list[int], until: dt.date) -> dict[int, dict]:
    """Each variant's latest engagement reading on or before ``until``: likes, replies, reposts and their sum
    (``engagement``; None when the network reported none of the three)."""
    from dandelion.analytics.models import PostEngagementDay

    out: dict[int, dict] = {}
    if not variant_ids:
        return out
    rows = (PostEngagementDay.objects.filter(variant_id__in=variant_ids, day__lte=until)
            .order_by("variant_id", "-day").values("variant_id", *ENGAGEMENT_FIGURES))
    for row in rows:
        if row["variant_id"] in out:
            continue
        figures = [row[n] for n in ENGAGEMENT_FIGURES if row[n] is not None]
        out[row["variant_id"]] = {**{n: row[n] for n in ENGAGEMENT_FIGURES},
                                  "engagement": sum(figures) if figures else None}
    return out


def followers_by_account(account_ids, until: dt.date) -> dict[int, int]:
    """Each account's latest follower count read on or before ``until`` (accounts never read are absent)."""
    from dandelion.analytics.models import AccountMetricsDay

    out: dict[int, int] = {}
    if not account_ids:
        return out
    for row in (AccountMetricsDay.objects.filter(account_id__in=list(account_ids), day__lte=until,
                                                 followers__isnull=False)
                .order_by("account_id", "-day").values("account_id", "followers")):
        out.setdefault(row["account_id"], row["followers"])
    return out
