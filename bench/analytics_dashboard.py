"""Analytics at size: the hub dashboard over 90 days, a day's rollup from raw rows, and a region's p90 first
response time from merged rollups against the raw durations.

* History: ``--days`` days (default 365) of rollups for ``--units`` units (default 40, in 4 regions) × 3 accounts ×
  2 teams × 3 languages, computed by ``rollup.roll_up`` from generated conversation records at
  ``--conversations`` a year (default 1,000,000). The rows per day (what the dashboard's cost depends on) are those
  of the full scale; the generated records carry one inbound message per conversation (the counters' values do
  not change the cost).
* One day of raw inbox rows at the issue's daily rate (conversations / 365, ``--messages-per-conversation`` 10
  inbound messages each) in the real tables, rebuilt with ``services.rebuild_day`` (target ≤ 30 s).
* The hub's dashboard, 90 days against the previous 90, through the API as the hub admin (target p95 ≤ 200 ms),
  then filtered by network, by unit (a region, one spoke and a network), by account (all read from the
  pre-merged levels), the HTML page, and a language filter (read from the fine rows).

``PYTHONPATH=src .venv/bin/python bench/analytics_dashboard.py [--db postgres|sqlite] [--conversations N]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import _benchlib as lib

DB = "dandelion_bench_analytics"


def build_org(n_units: int):
    from tests.factories import UserFactory

    from dandelion.assets.models import SocialAccount
    from dandelion.orgs.choices import Role, UnitKind
    from dandelion.orgs.models import Membership, OrgUnit, Team

    hub = OrgUnit.objects.create(name="Hub", slug="hub", kind=UnitKind.HUB)
    regions = [OrgUnit.objects.create(name=f"Region {r}", slug=f"region-{r}", kind=UnitKind.REGION, parent=hub)
               for r in range(4)]
    units, accounts = [], []
    for i in range(n_units):
        unit = OrgUnit.objects.create(name=f"Country {i}", slug=f"country-{i}", parent=regions[i % 4])
        teams = [Team.objects.create(unit=unit, name=f"T{i}-{k}", kind="helpers") for k in range(2)]
        for a in range(3):
            accounts.append((SocialAccount.objects.create(
                owner_unit=unit, network=("facebook", "instagram", "x")[a], handle=f"@c{i}_{a}",
                external_id=f"c{i}-{a}", languages=["en", "fr", "es"], followers=1000 * (i + 1) * (a + 1)), teams))
        units.append(unit)
    admin = UserFactory(username="hubadmin")
    Membership.objects.create(user=admin, unit=hub, role=Role.HUB_ADMIN)
    return hub, regions, accounts, admin


def history(accounts, days: int, per_year: int, end: dt.date, regions) -> dict:
    """Rollups for ``days`` days before ``end``; returns the raw first-response durations per region and day."""
    from dandelion.analytics import services
    from dandelion.analytics.rollup import ConversationRecord, InboundRecord, roll_up

    per_day = per_year / 365
    rng = random.Random(1)
    raw: dict[tuple[int, dt.date], list[int]] = {}
    t = time.perf_counter()
    for offset in range(days):
        day = end - dt.timedelta(days=days - 1 - offset)
        inbound, convs = [], []
        for account, teams in accounts:
            n = max(1, int(rng.gauss(per_day / len(accounts), 3)))
            region = account.owner_unit.parent_id
            for _ in range(n):
                start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randint(0, 86399))
                team, language = rng.choice(teams).pk, rng.choice(("en", "fr", "es"))
                frt = int(rng.lognormvariate(math.log(900), 1.2)) if rng.random() < 0.9 else None
                inbound.append(InboundRecord(account.pk, team, language, start, True, True, frt is not None))
                convs.append(ConversationRecord(account.pk, team, language, start,
                                                start + dt.timedelta(seconds=frt) if frt is not None else None, None))
                if frt is not None:
                    raw.setdefault((region, day), []).append(frt)
        services.write_day(day, roll_up(inbound, convs, []))
        if offset % 30 == 0:
            print(f"  history: {offset + 1}/{days} days, {time.perf_counter() - t:.0f} s", flush=True)
    return raw


def raw_day(accounts, day: dt.date, conversations: int, per_conversation: int) -> None:
    from dandelion.inbox.models import Contact, Conversation, Message

    rng = random.Random(2)
    contacts = Contact.objects.bulk_create([Contact(name=f"c{i}") for i in range(conversations)], batch_size=2000)
    convs = []
    for i, contact in enumerate(contacts):
        account, teams = accounts[i % len(accounts)]
        first = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randint(0, 86399))
        convs.append(Conversation(account=account, contact=contact, team=rng.choice(teams), language="en",
                                  thread_key=f"k{i}", first_inbound_at=first,
                                  first_response_at=first + dt.timedelta(seconds=rng.randint(30, 9000))))
    convs = Conversation.objects.bulk_create(convs, batch_size=2000)
    msgs = [Message(conversation=c, account_id=c.account_id, network="facebook", external_id=f"m{c.pk}-{k}",
                    direction="inbound", text="hello", sent_at=c.first_inbound_at + dt.timedelta(seconds=k),
                    needs_reply=k == 0, replied=k == 0, language="en", sentiment="neutral")
            for c in convs for k in range(per_conversation)]
    Message.objects.bulk_create(msgs, batch_size=5000)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    ap.add_argument("--conversations", type=int, default=1_000_000, help="conversations a year")
    ap.add_argument("--messages-per-conversation", type=int, default=10)
    ap.add_argument("--units", type=int, default=40)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--profile", action="store_true", help="cProfile one hub dashboard request (top 30 by cumtime)")
    ap.add_argument("--alternate", type=int, default=0,
                    help="time the hub dashboard N times each with the breakdowns' old two-pass merge and the "
                         "one-pass merge, alternated (A/B in one run)")
    ap.add_argument("--fine-repeat", type=int, default=3, help="repeats of the dashboard read from the fine rows")
    ap.add_argument("--keep", action="store_true", help="keep the PostgreSQL database at the end (for --reuse)")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse the database a --keep run left: skip the history and the raw day (and the raw p90 "
                         "check, whose raw durations are not stored)")
    args = ap.parse_args()
    print(lib.machine(), flush=True)
    work = tempfile.mkdtemp(prefix="dbench-analytics-")
    var = os.path.join(work, "var")
    os.makedirs(var)
    if args.reuse and args.db == "postgres":
        url = f"{lib.PG_ADMIN_URL}/{DB}"
    else:
        url = lib.pg_create(DB) if args.db == "postgres" else f"sqlite:///{os.path.join(work, 'a.sqlite3')}"
    try:
        lib.django_setup(url, var)
        from django.core.management import call_command

        call_command("migrate", "--no-input", verbosity=0)
        return run(args)
    finally:
        from django.db import connection

        connection.close()
        if args.db == "postgres" and not args.keep:
            lib.pg_drop(DB)
        lib.rmtree(work)


def run(args) -> int:
    from django.conf import settings
    from django.db import connection

    from dandelion.analytics import services
    from dandelion.analytics.models import DailyRollup
    from dandelion.core.actors import SYSTEM

    settings.ALLOWED_HOSTS = ["*"]
    today = dt.date.today()
    end = today - dt.timedelta(days=1)
    if args.reuse:
        return measure(args, *reused_org(), end, None)
    _hub, regions, accounts, admin = build_org(args.units)
    t = time.perf_counter()
    raw = history(accounts, args.days, args.conversations, end, regions)
    from dandelion.analytics.models import RollupBlock

    print(f"history: {DailyRollup.objects.count():,} rollup rows ({RollupBlock.objects.count():,} pre-merged) for {args.days} days in "
          f"{time.perf_counter() - t:.0f} s", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")

    per_day = args.conversations // 365
    t = time.perf_counter()
    raw_day(accounts, today, per_day, args.messages_per_conversation)
    print(f"raw day: {per_day:,} conversations, {per_day * args.messages_per_conversation:,} messages written in "
          f"{time.perf_counter() - t:.0f} s", flush=True)
    timings = []
    for _ in range(3):
        t = time.perf_counter()
        rows = services.rebuild_day(today, actor=SYSTEM)
        timings.append(time.perf_counter() - t)
    print(f"a day's rollup: {rows} rows, {min(timings):.2f} s best / {max(timings):.2f} s worst of 3 "
          f"(target ≤ 30 s)", flush=True)

    return measure(args, regions, accounts, admin, end, raw)


def reused_org():
    from django.contrib.auth import get_user_model

    from dandelion.assets.models import SocialAccount
    from dandelion.orgs.models import OrgUnit, Team

    regions = list(OrgUnit.objects.filter(slug__startswith="region-").order_by("slug"))
    teams: dict[int, list] = {}
    for team in Team.objects.order_by("pk"):
        teams.setdefault(team.unit_id, []).append(team)
    accounts = [(a, teams[a.owner_unit_id]) for a in SocialAccount.objects.select_related("owner_unit").order_by("pk")]
    return regions, accounts, get_user_model().objects.get(username="hubadmin")


def measure(args, regions, accounts, admin, end: dt.date, raw: dict | None) -> int:
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from dandelion.analytics import histogram
    from dandelion.analytics.models import DailyRollup
    from dandelion.analytics.rollup import merge_cells

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=admin)[0].key}")
    start = end - dt.timedelta(days=89)
    params = {"start": str(start), "end": str(end)}
    response = client.get("/api/v1/analytics-dashboard/", params)
    assert response.status_code == 200, response.content[:300]
    from django.core.cache import cache

    def timed(label: str, url: str, extra: dict, repeat: int, target: str = "") -> None:
        """Cold: the merged-period cache cleared before each request (every row read and merged); cached: the
        same request again (the rollups' version unchanged)."""
        query = {**params, **extra}
        response = client.get(url, query)
        assert response.status_code == 200, (url, query, response.content[:300])
        for kind in ("cold", "cached"):
            durations = []
            for _ in range(repeat):
                if kind == "cold":
                    cache.clear()
                t = time.perf_counter()
                client.get(url, query)
                durations.append((time.perf_counter() - t) * 1000)
            print(f"{label}, {kind}: p50 {lib.pct(durations, 50):.0f} ms, p95 {lib.pct(durations, 95):.0f} ms "
                  f"over {repeat}{target}", flush=True)

    client.force_login(admin)
    api = "/api/v1/analytics-dashboard/"
    timed("hub dashboard, 90 days vs previous 90, API", api, {}, args.repeat, " (target p95 ≤ 200 ms)")
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        cache.clear()
        profiler.enable()
        client.get(api, params)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    if args.alternate:
        from dandelion.analytics import reports

        one_pass = reports.unit_and_account_breakdowns

        def two_pass(rows, unit_labels, account_labels):
            return (reports.breakdown(rows, "unit_id", unit_labels),
                    reports.breakdown(rows, "account_id", account_labels))

        runs: dict[str, list[float]] = {"two-pass (old)": [], "one-pass (new)": []}
        for _ in range(args.alternate):
            for label, fn in (("two-pass (old)", two_pass), ("one-pass (new)", one_pass)):
                reports.unit_and_account_breakdowns = fn
                cache.clear()
                t = time.perf_counter()
                client.get(api, params)
                runs[label].append((time.perf_counter() - t) * 1000)
        reports.unit_and_account_breakdowns = one_pass
        for label, durations in runs.items():
            print(f"hub dashboard API, breakdowns {label}: p50 {lib.pct(durations, 50):.0f} ms, "
                  f"p95 {lib.pct(durations, 95):.0f} ms over {len(durations)} (alternated)", flush=True)
    timed("  filtered by network", api, {"network": "instagram"}, args.repeat)
    timed("  filtered by unit (a region's subtree)", api, {"unit": regions[0].pk}, args.repeat)
    timed("  filtered by unit and network (one spoke)", api,
          {"unit": accounts[0][0].owner_unit_id, "network": "facebook"}, args.repeat)
    timed("  filtered by account", api, {"account": accounts[0][0].pk}, args.repeat)
    timed("hub dashboard page (HTML, charts and tables)", "/analytics/", {}, args.repeat)
    timed("  language filter (fine rows: the blocks keep no language)", api, {"language": "fr"},
          max(1, args.fine_repeat))

    if raw is None:
        return 0
    region = regions[0]
    cell = merge_cells(DailyRollup.objects.filter(unit__path__startswith=region.path, day__gte=start,
                                                  day__lte=end).values("frt_hist"))
    values = [v for (r, day), vs in raw.items() if r == region.pk and start <= day <= end for v in vs]
    rolled = histogram.percentile_bucket(cell.frt_hist, 0.9)
    direct = histogram.nearest_rank(values, 0.9)
    same = rolled == histogram.bucket_of(direct)
    print(f"region p90 first response: raw {direct} s, from merged rollups {histogram.representative(rolled):.0f} s "
          f"(bucket {rolled}, raw value's bucket {histogram.bucket_of(direct)}): {'EQUAL' if same else 'DIFFERENT'}"
          f" over {len(values):,} conversations", flush=True)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
