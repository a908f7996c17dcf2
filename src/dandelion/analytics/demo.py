"""The analytics part of the demo: 90 days of rollups for every demo account, and a featured success story.

The history is computed by the same pure rollup code (``rollup.roll_up``) from generated conversation records, so
the figures obey every definition; it is written for days older than the periodic refresh's window (which
recomputes recent days from the real inbox rows). A later ``dandelion analytics backfill`` over those days replaces
the synthetic history with what the inbox really holds."""

from __future__ import annotations

import datetime as dt
import math
import random

from dandelion.core.demo import DemoContext

HISTORY_DAYS = 90


def _records(account, team_id, day: dt.date, rng: random.Random, quality: float):
    from dandelion.analytics.rollup import ConversationRecord, InboundRecord, SlaRecord

    languages = list(account.languages or ["en"])
    weekday_factor = 0.6 if day.weekday() >= 5 else 1.0
    volume = max(1, int(rng.gauss(4 + math.log10(max(account.followers, 10)) * 4, 3) * weekday_factor))
    inbound, conversations, slas = [], [], []
    for _ in range(volume):
        start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randint(0, 86399))
        language = rng.choice(languages)
        answered = rng.random() < quality
        # faster where the account is better run; log-normal, as response times are
        frt = rng.lognormvariate(math.log(300 + (1 - quality) * 7200), 0.9) if answered else None
        resolved = frt is not None and rng.random() < 0.8
        sentiment = rng.choices(["positive", "neutral", "negative"], [0.35, 0.45, 0.2])[0]
        spam = rng.random() < 0.06
        inbound.append(InboundRecord(account.pk, team_id, language, start, needs_reply=not spam, visible=not spam,
                                     replied=answered and not spam, spam=0.95 if spam else 0.02,
                                     abuse=0.8 if spam and rng.random() < 0.3 else 0.0, sentiment=sentiment))
        if spam:
            continue
        first_response = start + dt.timedelta(seconds=frt) if frt is not None else None
        resolution = (first_response + dt.timedelta(seconds=rng.lognormvariate(math.log(3600), 1.0))
                      if resolved and first_response else None)
        conversations.append(ConversationRecord(account.pk, team_id, language, start, first_response, resolution))
        slas.append(SlaRecord(account.pk, team_id, language, start, met=frt is not None and frt <= 3600))
    return inbound, conversations, slas


def seed(demo: DemoContext) -> None:
    """Rollups for the 90 days before the refresh window, once (idempotent: days already there are kept)."""
    from dandelion.analytics import services
    from dandelion.analytics.models import DailyRollup, SuccessStory
    from dandelion.analytics.rollup import roll_up
    from dandelion.assets.models import SocialAccount
    from dandelion.orgs.models import Team

    today = demo.now.date()
    last = today - dt.timedelta(days=services.RECENT_DAYS + 1)
    first = last - dt.timedelta(days=HISTORY_DAYS - 1)
    accounts = list(SocialAccount.objects.exclude(status="archived").order_by("pk"))
    teams = {}
    for team in Team.objects.order_by("pk"):
        teams.setdefault(team.unit_id, team.pk)
    done = set(DailyRollup.objects.filter(day__gte=first, day__lte=last).values_list("day", flat=True).distinct())
    for offset in range(HISTORY_DAYS):
        day = first + dt.timedelta(days=offset)
        if day in done or not accounts:
            continue
        inbound, conversations, slas = [], [], []
        for account in accounts:
            rng = random.Random(f"{account.pk}-{day.isoformat()}")
            base = 0.55 + (account.pk * 37 % 40) / 100  # each account its own level, 55 % to 94 %
            quality = min(0.98, base + 0.15 * offset / HISTORY_DAYS)  # and improving over the quarter
            i, c, s = _records(account, teams.get(account.owner_unit_id), day, rng, quality)
            inbound += i
            conversations += c
            slas += s
        services.write_day(day, roll_up(inbound, conversations, slas))
    demo.counts["analytics rollup rows"] = DailyRollup.objects.filter(day__gte=first, day__lte=last).count()

    france = demo.units.get("france")
    author = demo.users.get(OWNERS_FRANCE) or demo.hub_admin
    account = next((a for a in accounts if france is not None and a.owner_unit_id == france.pk), None)
    if france is not None and account is not None and not SuccessStory.objects.filter(unit=france).exists():
        story = services.create_story(
            actor=author, unit=france, account=account, theme="responsiveness",
            title="Evening shifts halved our response time",
            body=("Most complaints arrived between 18:00 and 22:00, when nobody was on shift.\n\n"
                  "* We moved two helpers to an **evening rota**;\n* wrote canned answers for the five commonest "
                  "questions;\n* and routed order questions straight to the helpers' queue.\n\n"
                  "The figures below are frozen from the dashboards."),
            before_start=first, before_end=first + dt.timedelta(days=27),
            after_start=last - dt.timedelta(days=27), after_end=last)
        services.submit_story(story, actor=author)
        services.feature_story(story, actor=demo.hub_admin)
    demo.counts["success stories"] = SuccessStory.objects.count()
    _seed_network_metrics(demo, accounts, first, today)


def _seed_network_metrics(demo: DemoContext, accounts, first: dt.date, today: dt.date) -> None:
    """Followers per account per day over the history (slow growth), and an engagement reading per sent post per
    day since it went out (rising, then flat): what ``services.collect_network_metrics`` stores from the
    connectors. Idempotent: rows already there are kept (the unique keys ignore conflicts)."""
    from dandelion.analytics.models import AccountMetricsDay, PostEngagementDay
    from dandelion.publishing.choices import VariantState
    from dandelion.publishing.models import PostVariant

    now = demo.now
    rows = []
    for account in accounts:
        base = 800 + account.pk * 431 % 40_000
        for offset in range((today - first).days + 1):
            day = first + dt.timedelta(days=offset)
            rows.append(AccountMetricsDay(account=account, unit_id=account.owner_unit_id, day=day,
                                          followers=base + offset * (3 + account.pk % 7), collected_at=now))
    AccountMetricsDay.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    rows = []
    for variant in (PostVariant.objects.filter(state=VariantState.SENT, sent_at__isnull=False)
                    .select_related("post").order_by("pk")):
        rng = random.Random(f"engagement-{variant.pk}")
        likes, replies, reposts = rng.randint(5, 120), rng.randint(0, 25), rng.randint(0, 30)
        sent = variant.sent_at.astimezone(dt.UTC).date()
        for offset in range(min(14, (today - sent).days) + 1):
            share = min(1.0, (offset + 1) / 4)
            rows.append(PostEngagementDay(variant=variant, account_id=variant.account_id, unit_id=variant.post.unit_id,
                                          day=sent + dt.timedelta(days=offset), likes=round(likes * share),
                                          replies=round(replies * share), reposts=round(reposts * share),
                                          collected_at=now))
    PostEngagementDay.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    demo.counts["analytics follower readings"] = AccountMetricsDay.objects.count()
    demo.counts["analytics engagement readings"] = PostEngagementDay.objects.count()


OWNERS_FRANCE = "clara.community"
