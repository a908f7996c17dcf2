"""Rollups against a direct computation from the raw rows, on random data, including a reply that comes late
and changes yesterday's figures; a day's rebuild is exact and idempotent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dandelion.analytics import histogram, services
from dandelion.analytics.models import DailyRollup
from dandelion.analytics.rollup import merge_cells
from dandelion.core.actors import SYSTEM
from tests.analytics.conftest import DAY, at, conversation

pytestmark = pytest.mark.django_db

DAYS = [DAY - dt.timedelta(days=1), DAY]


def direct(day: dt.date, **where) -> dict:
    """The day's figures straight from the raw rows, by the definitions of docs/analytics.md."""
    from dandelion.inbox.models import Conversation, Message

    start, end = services.day_bounds(day)
    msgs = Message.objects.filter(direction="inbound", sent_at__gte=start, sent_at__lt=end,
                                  **{f"conversation__{k}": v for k, v in where.items()})
    visible_needing = msgs.filter(moderation_state="visible", needs_reply=True)
    convs = Conversation.objects.filter(first_inbound_at__gte=start, first_inbound_at__lt=end, **where)
    frt = [max(0, round((c.first_response_at - c.first_inbound_at).total_seconds()))
           for c in convs if c.first_response_at]
    return {
        "inbound": msgs.count(),
        "needs_reply": visible_needing.count(),
        "answered": visible_needing.filter(replied=True).count(),
        "hidden_spam": msgs.exclude(moderation_state="visible").filter(spam__gte=0.5).count(),
        "sentiment_negative": msgs.filter(sentiment="negative").count(),
        "conversations": convs.count(),
        "first_responses": len(frt),
        "frt_sum_s": sum(frt),
        "frt_p50_bucket": histogram.bucket_of(histogram.nearest_rank(frt, 0.5)) if frt else None,
        "frt_p90_bucket": histogram.bucket_of(histogram.nearest_rank(frt, 0.9)) if frt else None,
    }


def rolled(day: dt.date, **where) -> dict:
    cell = merge_cells(DailyRollup.objects.filter(day=day, **where).values())
    return {
        "inbound": cell.inbound, "needs_reply": cell.needs_reply, "answered": cell.answered,
        "hidden_spam": cell.hidden_spam, "sentiment_negative": cell.sentiment_negative,
        "conversations": cell.conversations, "first_responses": cell.first_responses, "frt_sum_s": cell.frt_sum_s,
        "frt_p50_bucket": histogram.percentile_bucket(cell.frt_hist, 0.5),
        "frt_p90_bucket": histogram.percentile_bucket(cell.frt_hist, 0.9),
    }


conversation_spec = st.fixed_dictionaries({
    "spain": st.booleans(),
    "language": st.sampled_from(["fr", "es", ""]),
    "day": st.sampled_from(DAYS),
    "second": st.integers(min_value=0, max_value=86399),
    "reply_after_s": st.one_of(st.none(), st.integers(min_value=0, max_value=3 * 86400)),
    "messages": st.lists(st.fixed_dictionaries({
        "needs_reply": st.booleans(),
        "moderation_state": st.sampled_from(["visible", "visible", "hidden"]),
        "spam": st.sampled_from([0.0, 0.6]),
        "sentiment": st.sampled_from(["", "positive", "neutral", "negative"]),
        "offset_s": st.integers(min_value=0, max_value=7200),
    }), min_size=1, max_size=3),
})


class Rollback(Exception):
    pass


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(specs=st.lists(conversation_spec, min_size=0, max_size=12), late=st.integers(min_value=0, max_value=11))
def test_rollups_agree_with_direct_computation_including_a_late_reply(org, specs, late):
    from dandelion.inbox.models import Conversation, Message

    try:
        with transaction.atomic():
            for spec in specs:
                first = at(spec["day"]) - dt.timedelta(hours=9) + dt.timedelta(seconds=spec["second"])
                account, team = (org.es_account, org.es_team) if spec["spain"] else (org.fr_account, org.fr_team)
                conversation(account, team=team, language=spec["language"], first_inbound_at=first,
                             reply_after_s=spec["reply_after_s"],
                             messages=[{"needs_reply": m["needs_reply"], "moderation_state": m["moderation_state"],
                                        "spam": m["spam"], "sentiment": m["sentiment"],
                                        "sent_at": first + dt.timedelta(seconds=m["offset_s"])}
                                       for m in spec["messages"]])
            services.rebuild_days(DAYS[0], DAYS[-1] + dt.timedelta(days=1), actor=SYSTEM)
            for day in DAYS:
                assert rolled(day) == direct(day)
                assert rolled(day, unit=org.france) == direct(day, account__owner_unit=org.france)
                assert rolled(day, account=org.es_account) == direct(day, account=org.es_account)

            # a late reply: yesterday's unanswered conversation is answered today; the refresh of recent days
            # moves yesterday's figures to what the raw rows now say
            waiting = list(Conversation.objects.filter(first_response_at__isnull=True).order_by("pk"))
            if waiting:
                conv = waiting[late % len(waiting)]
                now = at(DAYS[-1] + dt.timedelta(days=1), 8)
                Conversation.objects.filter(pk=conv.pk).update(first_response_at=now)
                Message.objects.filter(conversation=conv, needs_reply=True).update(replied=True, replied_at=now)
                services.refresh_recent_days(actor=SYSTEM, days=3, today=DAYS[-1] + dt.timedelta(days=1))
                for day in DAYS:
                    assert rolled(day) == direct(day)
            raise Rollback
    except Rollback:
        pass


def test_a_late_reply_changes_yesterdays_figures(traffic):
    from dandelion.inbox.models import Conversation, Message

    services.rebuild_day(DAY, actor=SYSTEM)
    before = rolled(DAY)
    assert before["needs_reply"] == 4 and before["answered"] == 3 and before["first_responses"] == 3
    conv = Conversation.objects.get(first_response_at__isnull=True)
    tomorrow = at(DAY + dt.timedelta(days=1), 8)
    Conversation.objects.filter(pk=conv.pk).update(first_response_at=tomorrow)
    Message.objects.filter(conversation=conv, needs_reply=True).update(replied=True, replied_at=tomorrow)
    assert rolled(DAY) == before  # not yet recomputed
    services.refresh_recent_days(actor=SYSTEM, today=DAY + dt.timedelta(days=1))
    after = rolled(DAY)
    assert after["answered"] == 4 and after["first_responses"] == 4
    assert after == direct(DAY)


def test_rebuilding_a_day_is_exact_and_idempotent(traffic):
    def snapshot():
        return sorted(tuple(sorted((k, str(v)) for k, v in row.items() if k not in ("id", "computed_at")))
                      for row in DailyRollup.objects.values())

    assert services.rebuild_day(DAY, actor=SYSTEM) == 2  # (France, FR helpers, fr) and (Spain, ES helpers, es)
    first = snapshot()
    services.rebuild_day(DAY, actor=SYSTEM)
    assert snapshot() == first
    DailyRollup.objects.filter(day=DAY).update(inbound=999)  # a corrupted day is put right by its rebuild
    services.rebuild_day(DAY, actor=SYSTEM)
    assert snapshot() == first


def test_the_rollup_row_carries_the_dimensions(traffic):
    services.rebuild_day(DAY, actor=SYSTEM)
    es = DailyRollup.objects.get(account=traffic.es_account)
    assert (es.unit_id, es.team_id, es.language, es.network) == (traffic.spain.pk, traffic.es_team.pk, "es",
                                                                 "instagram")
    assert es.sentiment_neutral == 1 and es.frt_sum_s == 7200


def test_rebuilding_needs_the_capability(org):
    from dandelion.core.exceptions import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        services.rebuild_day(DAY, actor=org.users.fr_admin)
    services.rebuild_day(DAY, actor=org.users.hub_admin)


def test_backfill_command_with_progress(traffic, capsys):
    from django.core.management import call_command

    call_command("analytics", "backfill", "--start", str(DAY - dt.timedelta(days=2)), "--end", str(DAY))
    out = capsys.readouterr()
    assert "2 rows" in out.out and "100%" in out.err
    assert DailyRollup.objects.filter(day=DAY).count() == 2
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("analytics", "backfill", "--start", str(DAY), "--end", str(DAY - dt.timedelta(days=1)))
