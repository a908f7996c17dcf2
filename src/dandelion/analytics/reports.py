"""Reading the rollups: a period's figures, its previous period, daily series, per-unit and per-account
breakdowns and the leaderboard. One query per period fetches the rows; counters sum and histograms merge in
Python (portable: no window functions, no JSON operators), so p50/p90 of a region are exact merges of its rows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from dandelion.analytics import histogram
from dandelion.analytics.exceptions import BadPeriod
from dandelion.analytics.rollup import COUNTERS, HISTOGRAMS, Cell, merge_cells

DEFAULT_DAYS = 28
MAX_DAYS = 400
#: Facebook's public "very responsive" criterion, over the last 7 days.
BADGE_DAYS = 7
BADGE_RESPONSE_RATE = 0.9
BADGE_RESPONSE_TIME_S = 15 * 60

FIELDS = ("day", "unit_id", "account_id", "team_id", "network", "language", *COUNTERS, *HISTOGRAMS)


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> Period:
        return Period(self.start - dt.timedelta(days=self.days), self.start - dt.timedelta(days=1))

    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]


def _parse_date(value, name: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise BadPeriod(_("%(name)s is not a date (expected YYYY-MM-DD): %(value)s")
                        % {"name": name, "value": str(value)[:40]}, field=name) from None


def parse_period(start=None, end=None, *, today: dt.date | None = None, default_days: int = DEFAULT_DAYS) -> Period:
    """The period ``[start, end]`` (dates, inclusive) from user input; the last ``default_days`` days ending today
    for what is missing. A malformed date, an inverted range or more than ``MAX_DAYS`` days is a :class:`BadPeriod`."""
    today = today or timezone.now().date()
    start_d, end_d = _parse_date(start, "start"), _parse_date(end, "end")
    end_d = end_d or (start_d + dt.timedelta(days=default_days - 1) if start_d else today)
    start_d = start_d or end_d - dt.timedelta(days=default_days - 1)
    if end_d < start_d:
        raise BadPeriod(_("The end date (%(end)s) is before the start date (%(start)s).")
                        % {"end": end_d, "start": start_d}, field="end")
    if (end_d - start_d).days + 1 > MAX_DAYS:
        raise BadPeriod(_("A period is at most %(n)d days.") % {"n": MAX_DAYS}, field="start")
    if start_d.year < 2000 or end_d.year > 2100:
        raise BadPeriod(_("Dates must be between 2000 and 2100."), field="start")
    return Period(start_d, end_d)


def fetch(qs, start: dt.date, end: dt.date) -> list[dict]:
    """The rollup rows of ``qs`` (already restricted and filtered) over ``[start, end]``."""
    return list(qs.filter(day__gte=start, day__lte=end).order_by().values(*FIELDS))


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(cell: Cell) -> dict:
    """The published measures of merged rows (definitions in docs/analytics.md)."""
    sentiment_total = cell.sentiment_positive + cell.sentiment_neutral + cell.sentiment_negative
    return {
        "inbound": cell.inbound,
        "needs_reply": cell.needs_reply,
        "answered": cell.answered,
        "response_rate": _ratio(cell.answered, cell.needs_reply),
        "conversations": cell.conversations,
        "first_responses": cell.first_responses,
        "frt_p50_s": histogram.percentile(cell.frt_hist, 0.5),
        "frt_p90_s": histogram.percentile(cell.frt_hist, 0.9),
        "frt_mean_s": round(cell.frt_sum_s / cell.first_responses, 1) if cell.first_responses else None,
        "resolutions": cell.resolutions,
        "resolution_p50_s": histogram.percentile(cell.resolution_hist, 0.5),
        "resolution_p90_s": histogram.percentile(cell.resolution_hist, 0.9),
        "sla_met": cell.sla_met,
        "sla_breached": cell.sla_breached,
        "sla_met_rate": _ratio(cell.sla_met, cell.sla_met + cell.sla_breached),
        "sentiment_positive": cell.sentiment_positive,
        "sentiment_neutral": cell.sentiment_neutral,
        "sentiment_negative": cell.sentiment_negative,
        "positive_share": _ratio(cell.sentiment_positive, sentiment_total),
        "negative_share": _ratio(cell.sentiment_negative, sentiment_total),
        "hidden": cell.hidden,
        "hidden_spam": cell.hidden_spam,
        "hidden_abuse": cell.hidden_abuse,
        **social_figures(cell),
    }


def social_figures(cell: Cell) -> dict:
    """Publishing and the networks' figures of merged rows: posts, short-link clicks, engagement (likes + replies
    + reposts, the same sum as the publishing section's; quotes apart) and per post, followers gained."""
    engagement = cell.likes + cell.replies + cell.reposts
    return {
        "posts": cell.posts,
        "link_clicks": cell.link_clicks,
        "likes": cell.likes,
        "replies": cell.replies,
        "reposts": cell.reposts,
        "quotes": cell.quotes,
        "engagement": engagement,
        "engagement_per_post": round(engagement / cell.posts, 2) if cell.posts else None,
        "followers_gained": cell.followers_gained,
    }


def summary(rows: list[dict]) -> dict:
    return figures(merge_cells(rows))


#: The headline measures compared with the previous period, and whether higher is better.
HEADLINE = (("inbound", None), ("response_rate", True), ("frt_p50_s", False), ("frt_p90_s", False),
            ("resolution_p50_s", False), ("sla_met_rate", True), ("negative_share", False), ("hidden", None),
            ("engagement", True), ("followers_gained", True))


def compare(current: dict, previous: dict) -> list[dict]:
    """Headline measures with their previous value, change and whether the change is good news."""
    out = []
    for name, higher_is_better in HEADLINE:
        now, before = current.get(name), previous.get(name)
        delta = None if now is None or before is None else now - before
        good = None
        if delta and higher_is_better is not None:
            good = (delta > 0) == higher_is_better
        out.append({"name": name, "value": now, "previous": before, "delta": delta, "good": good,
                    "change": None if not before or delta is None else round(delta / before, 4)})
    return out


def day_cells(rows: list[dict]) -> dict[dt.date, Cell]:
    by_day: dict[dt.date, list[dict]] = defaultdict(list)
    for row in rows:
        by_day[row["day"]].append(row)
    return {day: merge_cells(group) for day, group in by_day.items()}


def daily_series(cells: dict[dt.date, Cell], period: Period) -> list[dict]:
    empty = Cell()
    return [{"day": day.isoformat(), **figures(cells.get(day, empty))} for day in period.dates()]


def breakdown(rows: list[dict], key: str, labels: dict) -> list[dict]:
    """Figures per ``key`` (``unit_id``, ``account_id``, ``team_id``, ``language``, ``network``), most inbound
    first."""
    groups: dict[object, list[dict]] = defaultdict(list)
    for row in rows:
        groups[row[key]].append(row)
    return _ranked({k: merge_cells(g) for k, g in groups.items()}, labels)


def _ranked(cells: dict, labels: dict) -> list[dict]:
    return relabel([{"key": k, **figures(c)} for k, c in cells.items()], labels)


def relabel(entries: list[dict], labels: dict) -> list[dict]:
    """Breakdown entries with their ``label`` from ``labels`` (by ``key``), most inbound first."""
    out = [{**e, "label": str(labels.get(e["key"], e["key"] if e["key"] not in (None, "") else "—"))}
           for e in entries]
    return sorted(out, key=lambda r: (-r["inbound"], r["label"]))


def unit_and_account_breakdowns(rows: list[dict], unit_labels: dict, account_labels: dict):
    """``breakdown(rows, "unit_id", …)`` and ``breakdown(rows, "account_id", …)`` with one pass over the rows: the
    rows merge once per (unit, account) pair, and the units and the accounts merge those few cells. Sums are
    associative, so the figures are the same (``tests/analytics/test_blocks.py``); the hub's dashboard merged its
    2,340 rows twice before (docs/benchmarks.md row 9b)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[(row["unit_id"], row["account_id"])].append(row)
    pairs = {key: merge_cells(group) for key, group in groups.items()}
    by_unit: dict[object, list[Cell]] = defaultdict(list)
    by_account: dict[object, list[Cell]] = defaultdict(list)
    for (unit_id, account_id), c in pairs.items():
        by_unit[unit_id].append(c)
        by_account[account_id].append(c)
    return (_ranked({k: merge_cells(v) for k, v in by_unit.items()}, unit_labels),
            _ranked({k: merge_cells(v) for k, v in by_account.items()}, account_labels))


def dashboard(qs, period: Period) -> dict:
    """Everything a dashboard shows for ``qs`` (restricted and filtered rollups) over ``period``."""
    both = fetch(qs, period.previous.start, period.end)
    current = [r for r in both if r["day"] >= period.start]
    previous = [r for r in both if r["day"] < period.start]
    current_days = day_cells(current)
    now, before = figures(merge_cells(current_days.values())), summary(previous)
    return {
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat(), "days": period.days},
        "previous_period": {"start": period.previous.start.isoformat(), "end": period.previous.end.isoformat()},
        "current": now,
        "previous": before,
        "headline": compare(now, before),
        "series": daily_series(current_days, period),
        "rows": current,
        "empty": not current,
    }


# ---- the pre-merged levels (RollupBlock) ----

BLOCK_FIELDS = ("unit_id", "account_id", "network", *COUNTERS, *HISTOGRAMS)


@dataclass(frozen=True)
class BlockQuery:
    """What a dashboard reads from the pre-merged levels: the units at the top of the scope (disjoint subtrees),
    or one account; and a network (empty: all). ``filters.resolve`` builds it when the blocks can answer (no team
    or language filter, no team-scoped grant)."""

    top_paths: tuple[str, ...] = ()
    account_id: int | None = None
    network: str = ""

    @property
    def top_ids(self) -> list[int]:
        return [int(p.strip("/").split("/")[-1]) for p in self.top_paths]


def weeks_and_days(period: Period) -> tuple[list[dt.date], list[dt.date]]:
    """The Mondays of the ISO weeks wholly inside ``period``, and the days of the period outside those weeks."""
    monday = period.start + dt.timedelta(days=(7 - period.start.weekday()) % 7)
    mondays = []
    while monday + dt.timedelta(days=6) <= period.end:
        mondays.append(monday)
        monday += dt.timedelta(days=7)
    covered = {m + dt.timedelta(days=i) for m in mondays for i in range(7)}
    return mondays, [d for d in period.dates() if d not in covered]


def block_dashboard(blocks, query: BlockQuery, period: Period) -> dict:
    """``dashboard()``'s answer from the pre-merged levels: the headline and the daily series from one row per
    day (the scope's top units, or the account), the breakdowns from the account rows of the period's whole weeks
    and edge days. ``blocks`` is ``RollupBlock.objects.restrict(user)``: the scope is checked again there."""
    from django.db.models import F, Q

    from dandelion.analytics.choices import BlockGrain

    day_rows = blocks.filter(grain=BlockGrain.DAY, start__gte=period.previous.start, start__lte=period.end)
    under = Q(pk__in=[])
    for path in query.top_paths:
        under |= Q(unit__path__startswith=path)
    detail = blocks.filter(under, account__isnull=False)
    if query.network:
        detail = detail.filter(network=query.network)
    if query.account_id is not None:
        detail = detail.filter(account_id=query.account_id)
        day_rows = day_rows.filter(under, account_id=query.account_id)
        if query.network:
            day_rows = day_rows.filter(network=query.network)
    else:
        day_rows = day_rows.filter(account__isnull=True, unit_id__in=query.top_ids, network=query.network)
    both = list(day_rows.order_by().values(*BLOCK_FIELDS, day=F("start")))
    mondays, days = weeks_and_days(period)
    rows = list(detail.filter(Q(grain=BlockGrain.WEEK, start__in=mondays) | Q(grain=BlockGrain.DAY, start__in=days))
                .order_by().values(*BLOCK_FIELDS, day=F("start")))
    current = [r for r in both if r["day"] >= period.start]
    previous = [r for r in both if r["day"] < period.start]
    current_days = day_cells(current)
    now, before = figures(merge_cells(current_days.values())), summary(previous)
    return {
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat(), "days": period.days},
        "previous_period": {"start": period.previous.start.isoformat(), "end": period.previous.end.isoformat()},
        "current": now,
        "previous": before,
        "headline": compare(now, before),
        "series": daily_series(current_days, period),
        "rows": rows,
        "empty": not current,
    }


def dashboard_for(scope) -> dict:
    """The dashboard of a resolved ``filters.Scope``: from the pre-merged levels when they can answer, else from
    the fine rows. Both give the same figures (``tests/analytics/test_blocks.py``)."""
    if scope.blocks is not None:
        return block_dashboard(scope.block_queryset, scope.blocks, scope.period)
    return dashboard(scope.queryset, scope.period)


# ---- the merged period, cached under the rollups' version ----

#: How long a merged period stays cached at most; the version makes it stale as soon as any day is rewritten.
CACHE_SECONDS = 15 * 60


def rollup_version() -> str:
    """The rollups' generation (``RollupVersion``), read from the database: bumped by every ``write_day``. With its
    time, so that a database restored to an older version does not match what was cached before."""
    from dandelion.analytics.models import RollupVersion

    row = RollupVersion.objects.filter(pk=1).values_list("version", "changed_at").first()
    return f"{row[0]}-{row[1].timestamp()}" if row else "0"


def merged_dashboard(scope, unit_labels: Callable[[set], dict], account_labels: Callable[[set], dict]) -> dict:
    """``dashboard_for(scope)`` with its per-unit and per-account breakdowns (``by_unit``, ``by_account``) and
    without the rows. The merged figures are cached under the rollups' version, the viewer's grants (which rows
    ``restrict()`` lets them read) and the scope's parameters: a rewritten day (rebuild, backfill, the hourly
    refresh) bumps the version, so a cached period is never served after its rows changed. Labels (unit and
    account names) are read on every call, so a rename shows at once."""
    from django.core.cache import cache

    key = f"analytics:dashboard:{rollup_version()}:{scope.cache_key}" if scope.cache_key else None
    data = cache.get(key) if key else None
    if data is None:
        data = dashboard_for(scope)
        rows = data.pop("rows")
        data["by_unit"], data["by_account"] = unit_and_account_breakdowns(rows, {}, {})
        if key:
            cache.set(key, data, CACHE_SECONDS)
    data["by_unit"] = relabel(data["by_unit"], unit_labels({e["key"] for e in data["by_unit"]}))
    data["by_account"] = relabel(data["by_account"], account_labels({e["key"] for e in data["by_account"]}))
    return data


# ---- leaderboard ----

def leaderboard(qs, accounts, period: Period, *, badge_end: dt.date | None = None) -> list[dict]:
    """The accounts of ``accounts`` (a restricted queryset) ranked within their peer group (same network, same
    follower band) by response rate, then by median first response time; with the previous period's response rate
    for the trend and the "very responsive" badge over the 7 days ending ``badge_end`` (the period's end)."""
    from dandelion.analytics.choices import FollowerBand, follower_band

    badge_end = badge_end or period.end
    badge_start = badge_end - dt.timedelta(days=BADGE_DAYS - 1)
    first = min(period.previous.start, badge_start)
    rows = list(qs.filter(day__gte=first, day__lte=max(period.end, badge_end)).order_by()
                .values("day", "account_id", *COUNTERS, *HISTOGRAMS))
    per: dict[int, dict[str, list[dict]]] = defaultdict(lambda: {"cur": [], "prev": [], "badge": []})
    for row in rows:
        slot = per[row["account_id"]]
        if period.start <= row["day"] <= period.end:
            slot["cur"].append(row)
        elif period.previous.start <= row["day"] <= period.previous.end:
            slot["prev"].append(row)
        if badge_start <= row["day"] <= badge_end:
            slot["badge"].append(row)
    entries = []
    band_labels = dict(FollowerBand.choices)
    for account in accounts:
        slot = per.get(account.pk)
        if slot is None or not slot["cur"]:
            continue
        cur, prev, badge = (figures(merge_cells(slot[k])) for k in ("cur", "prev", "badge"))
        band = follower_band(account.followers)
        trend = None
        if cur["response_rate"] is not None and prev["response_rate"] is not None:
            diff = cur["response_rate"] - prev["response_rate"]
            trend = "up" if diff > 0.01 else "down" if diff < -0.01 else "flat"
        very_responsive = (badge["response_rate"] is not None and badge["frt_mean_s"] is not None
                           and badge["response_rate"] >= BADGE_RESPONSE_RATE
                           and badge["frt_mean_s"] <= BADGE_RESPONSE_TIME_S)
        entries.append({
            "account_id": account.pk, "account": str(account), "handle": account.handle,
            "network": account.network, "unit": account.owner_unit.name, "followers": account.followers,
            "peer_group": f"{account.network} · {band_labels.get(band, band)}", "band": str(band),
            "inbound": cur["inbound"], "response_rate": cur["response_rate"], "frt_p50_s": cur["frt_p50_s"],
            "frt_mean_s": cur["frt_mean_s"], "previous_response_rate": prev["response_rate"], "trend": trend,
            "inbound_per_1k_followers": round(cur["inbound"] * 1000 / account.followers, 2)
            if account.followers else None,
            **_reach(cur, prev, account.followers),
            "very_responsive": very_responsive, "badge_response_rate": badge["response_rate"],
            "badge_frt_mean_s": badge["frt_mean_s"],
        })
    entries.sort(key=lambda e: (e["peer_group"], -(e["response_rate"] or -1),
                                e["frt_p50_s"] if e["frt_p50_s"] is not None else float("inf"), e["account"]))
    rank, group = 0, None
    for e in entries:
        rank = rank + 1 if e["peer_group"] == group else 1
        group = e["peer_group"]
        e["rank"] = rank
    return entries


def _reach(cur: dict, prev: dict, followers: int | None) -> dict:
    """The leaderboard's publishing measures of an account: engagement per 1,000 followers per post (the period's
    engagement ÷ its posts ÷ the followers in thousands), followers gained and growth (gained ÷ the count at the
    period's start, i.e. today's count less what was gained), each against the previous period for its trend."""
    def rate(f: dict) -> float | None:
        if not f["posts"] or not followers:
            return None
        return round(f["engagement"] / f["posts"] / (followers / 1000), 3)

    def growth(f: dict, gained_since: int) -> float | None:
        base = (followers or 0) - gained_since
        return round(f["followers_gained"] / base, 4) if base > 0 else None

    now, before = rate(cur), rate(prev)
    trend = None
    if now is not None and before is not None:
        trend = "up" if now > before * 1.05 else "down" if now < before * 0.95 else "flat"
    return {"posts": cur["posts"], "engagement": cur["engagement"], "engagement_rate": now,
            "previous_engagement_rate": before, "engagement_trend": trend,
            "followers_gained": cur["followers_gained"], "growth": growth(cur, cur["followers_gained"]),
            "previous_growth": growth(prev, cur["followers_gained"] + prev["followers_gained"])}
