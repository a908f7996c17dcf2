"""The pre-merged levels (``RollupBlock``) against the fine rows: every dashboard the blocks answer gives the same
figures, series and breakdowns as the direct merge of the ``DailyRollup`` rows, on random data over weeks and
after a day is rewritten (a late reply); the blocks are scoped and fail closed."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dandelion.analytics import filters, reports, services
from dandelion.analytics.choices import BlockGrain
from dandelion.analytics.models import DailyRollup, RollupBlock
from dandelion.analytics.rollup import ConversationRecord, InboundRecord, SlaRecord, roll_up
from tests.analytics.conftest import DAY, at
from tests.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db

FIRST = DAY - dt.timedelta(days=40)


def _day_cells(rng: random.Random, accounts, day: dt.date, teams) -> dict:
    inbound, convs, slas = [], [], []
    for account in accounts:
        for _ in range(rng.randint(0, 4)):
            start = at(day, rng.randint(0, 23), rng.randint(0, 59))
            team, language = rng.choice(teams), rng.choice(("fr", "es", ""))
            frt = rng.choice([None, rng.randint(0, 90), rng.randint(60, 20_000)])
            visible = rng.random() < 0.85
            inbound.append(InboundRecord(account.pk, team, language, start, rng.random() < 0.8, visible,
                                         frt is not None, spam=rng.random(), abuse=rng.random(),
                                         sentiment=rng.choice(("positive", "neutral", "negative", ""))))
            convs.append(ConversationRecord(account.pk, team, language, start,
                                            start + dt.timedelta(seconds=frt) if frt is not None else None,
                                            start + dt.timedelta(seconds=rng.randint(0, 90_000))
                                            if rng.random() < 0.5 else None))
            if rng.random() < 0.5:
                slas.append(SlaRecord(account.pk, team, language, start, rng.random() < 0.7))
    return roll_up(inbound, convs, slas)


@pytest.fixture
def world(org):
    """Three accounts in France (two networks) and Spain, 41 days of random rollups."""
    org.fr_ig = SocialAccountFactory(owner_unit=org.france, network="instagram", handle="@brand_fr_ig",
                                     external_id="ig-fr", followers=5000)
    org.accounts = [org.fr_account, org.es_account, org.fr_ig]
    org.teams = [None, org.fr_team.pk, org.es_team.pk]
    rng = random.Random(19)
    for offset in range(41):
        day = FIRST + dt.timedelta(days=offset)
        services.write_day(day, _day_cells(rng, org.accounts, day, org.teams))
    return org


def _both(user, params) -> tuple[dict, dict]:
    """The dashboard of ``params`` for ``user`` from the blocks and from the fine rows, breakdowns included."""
    scope = filters.resolve(user, params)
    assert scope.blocks is not None, "the blocks should answer this scope"
    out = []
    for data in (reports.dashboard_for(scope), reports.dashboard(scope.queryset, scope.period)):
        rows = data.pop("rows")
        data["by_unit"] = sorted(reports.breakdown(rows, "unit_id", {}), key=lambda r: r["key"])
        data["by_account"] = sorted(reports.breakdown(rows, "account_id", {}), key=lambda r: r["key"])
        out.append(data)
    return out[0], out[1]


PERIODS = [(DAY - dt.timedelta(days=13), DAY), (DAY - dt.timedelta(days=20), DAY - dt.timedelta(days=2)),
           (DAY - dt.timedelta(days=3), DAY - dt.timedelta(days=3)), (FIRST + dt.timedelta(days=1), DAY)]


@pytest.mark.parametrize("start,end", PERIODS)
def test_blocks_equal_the_fine_rows_for_every_scope_and_filter(world, start, end):
    period = {"start": str(start), "end": str(end)}
    cases = [
        (world.users.hub_admin, {}), (world.users.hub_admin, {"network": "instagram"}),
        (world.users.hub_admin, {"unit": world.france.pk}), (world.users.hub_admin, {"account": world.fr_ig.pk}),
        (world.users.hub_admin, {"unit": world.spain.pk, "network": "facebook"}),
        (world.users.analyst, {}), (world.users.europe_admin, {"network": "facebook"}),
        (world.users.fr_admin, {}), (world.users.es_admin, {}),
        (world.users.fr_admin, {"account": world.fr_account.pk, "network": "instagram"}),
    ]
    for user, params in cases:
        blocks, fine = _both(user, {**params, **period})
        assert blocks == fine, (user.username, params)
    hub, _ = _both(world.users.hub_admin, period)
    fr, _ = _both(world.users.fr_admin, period)
    assert hub["current"]["inbound"] > fr["current"]["inbound"] > 0
    assert {r["key"] for r in fr["by_account"]} == {world.fr_account.pk, world.fr_ig.pk}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), offset=st.integers(0, 40), width=st.integers(0, 30))
def test_a_rewritten_day_keeps_the_blocks_equal_to_the_fine_rows(world, seed, offset, width):
    """A late reply rewrites a day (here: new random cells for it); its week's rows follow."""
    day = FIRST + dt.timedelta(days=offset)
    services.write_day(day, _day_cells(random.Random(seed), world.accounts, day, world.teams))
    end = min(DAY, day + dt.timedelta(days=width // 2))
    period = {"start": str(end - dt.timedelta(days=width)), "end": str(end)}
    for params in ({}, {"network": "facebook"}, {"unit": world.france.pk}):
        blocks, fine = _both(world.users.hub_admin, {**params, **period})
        assert blocks == fine, params


def test_the_levels_are_the_sums_of_the_fine_rows(world):
    day = DAY - dt.timedelta(days=5)
    fine = DailyRollup.objects.filter(day=day)
    root = RollupBlock.objects.get(grain=BlockGrain.DAY, start=day, unit=world.hub, account=None, network="")
    assert root.inbound == sum(fine.values_list("inbound", flat=True))
    europe_ig = RollupBlock.objects.get(grain=BlockGrain.DAY, start=day, unit=world.europe, network="instagram",
                                        account=None)
    assert europe_ig.inbound == sum(fine.filter(network="instagram").values_list("inbound", flat=True))
    monday = day - dt.timedelta(days=day.weekday())
    week = RollupBlock.objects.get(grain=BlockGrain.WEEK, start=monday, account=world.fr_account)
    assert week.inbound == sum(DailyRollup.objects.filter(
        account=world.fr_account, day__gte=monday, day__lt=monday + dt.timedelta(days=7))
        .values_list("inbound", flat=True))
    # rewriting a day with nothing left empties its blocks and updates its week
    services.write_day(day, {})
    assert not RollupBlock.objects.filter(grain=BlockGrain.DAY, start=day).exists()
    week = RollupBlock.objects.get(grain=BlockGrain.WEEK, start=monday, account=world.fr_account)
    assert week.inbound == sum(DailyRollup.objects.filter(
        account=world.fr_account, day__gte=monday, day__lt=monday + dt.timedelta(days=7))
        .values_list("inbound", flat=True))


def test_blocks_are_scoped_and_team_scoped_or_filtered_readers_use_the_fine_rows(world):
    spain = RollupBlock.objects.restrict(world.users.es_admin, "view")
    assert spain.exists() and not spain.exclude(unit__path__startswith=world.spain.path).exists()
    assert not RollupBlock.objects.restrict(world.users.moderator, "view").exists()
    assert not RollupBlock.objects.restrict(world.users.fr_agent, "view").exists()
    # a team-scoped reader, a team filter or a language filter: the blocks cannot answer, the fine rows do
    period = {"start": str(DAY - dt.timedelta(days=6)), "end": str(DAY)}
    assert filters.resolve(world.users.hub_admin, {**period, "language": "fr"}).blocks is None
    assert filters.resolve(world.users.hub_admin, {**period, "team": world.fr_team.pk}).blocks is None
    assert filters.resolve(world.users.europe_admin, period).blocks.top_paths == (world.europe.path,)
    assert filters.resolve(world.users.hub_admin, period).blocks.top_paths == (world.hub.path,)


def test_weeks_and_days_cover_the_period_exactly():
    for start_offset in range(8):
        for length in range(1, 30):
            start = dt.date(2026, 3, 2) + dt.timedelta(days=start_offset)  # a Monday + offset
            period = reports.Period(start, start + dt.timedelta(days=length - 1))
            mondays, days = reports.weeks_and_days(period)
            covered = [m + dt.timedelta(days=i) for m in mondays for i in range(7)] + days
            assert sorted(covered) == period.dates()
            assert all(m.weekday() == 0 for m in mondays)


_hist = st.dictionaries(st.integers(0, 60).map(str), st.integers(1, 50), max_size=6)
_row = st.fixed_dictionaries({
    "unit_id": st.integers(1, 4), "account_id": st.integers(1, 6), "inbound": st.integers(0, 40),
    "needs_reply": st.integers(0, 20), "answered": st.integers(0, 20), "first_responses": st.integers(0, 20),
    "frt_sum_s": st.integers(0, 10**6), "sla_met": st.integers(0, 5), "sla_breached": st.integers(0, 5),
    "frt_hist": _hist, "resolution_hist": _hist})


@given(rows=st.lists(_row, max_size=40))
@settings(max_examples=150, deadline=None)
def test_one_pass_breakdowns_equal_the_two_separate_ones(rows):
    """``unit_and_account_breakdowns`` (rows merged once per unit × account pair, then per unit and per account)
    gives exactly what ``breakdown`` gives per unit and per account, an account moving between units included."""
    units, accounts = {1: "A", 2: "B", 3: "C"}, {1: "x", 2: "y", 5: "z"}
    by_unit, by_account = reports.unit_and_account_breakdowns(rows, units, accounts)
    assert by_unit == reports.breakdown(rows, "unit_id", units)
    assert by_account == reports.breakdown(rows, "account_id", accounts)
