"""Time to detect a crisis and open its room, on held-out real data.

PYTHONPATH=src .venv/bin/python bench/crisis_detect.py [--events 5] [--json out.json]

**Held-out data.** The listening detector's few global parameters were chosen on the *labelled* CrisisLex T26 file
(about 1,000 sampled tweets per event). This bench replays instead each event's **entire keyword collection**
(``CrisisLexT26/<event>/<event>-tweetids_entire_period.csv``: the time of every collected tweet, ``Included = Y``;
about 5,000 per event, 25 events; Boston has none): a different, denser stream that no parameter was tuned on (the
labelled tweets are a ~20 % sample of it, so the two are not independent; nothing here is tuned at all: the bench
imports the detector as it ships). The files carry no relatedness label: every collected tweet counts as related.

1. **Detection** (all events, in accelerated time, no database): ``listening.evaluate``'s replay (the real
   detector, ticked once per simulated minute from a quiet day before the first tweet) and its scoring (onset: the
   first hour reaching 10 % of the busiest hour; delay: onset → the first alert within 24 h; false alerts: alerts
   before the onset, per week of replayed time), with the hourly "24 h mean + 3σ" baseline on the same streams.
2. **Detection + room opening, end to end** (``--events`` events, a throwaway SQLite database): the event's tweets
   are ingested minute by minute as mentions of one query (``listening.services.ingest_mentions``), the real minute
   tick runs (``evaluate_queries``, committing), its ``listening.alert_opened`` event reaches the crisis subscriber,
   which opens the room and announces it (bell, e-mail on the locmem backend, webhook delivery queued). The live
   window runs from 6 hours before the onset; the detector is brought there by listening's backfill over the
   event's earlier tweets (from a quiet day before the first one, as in part 1). Measured: when the first room
   opened, in simulated minutes after the onset (negative: on the crisis's early rise, before its onset hour), and
   the wall-clock time from the start of the tick that raised the alert until the room, its notifications, e-mails
   and webhook rows are all committed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("DANDELION_DATASETS") or REPO.parent / "shared" / "datasets")
T26 = DATASETS / "crisislex" / "CrisisLexT26"


def read_entire_period(path: Path):
    from dandelion.listening.evaluate import Stream

    items = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        next(fh)
        for line in fh:
            parts = [p.strip().strip('"') for p in line.rsplit(",", 2)]
            if len(parts) != 3 or parts[2] != "Y":
                continue
            at = dt.datetime.strptime(parts[0], "%a %b %d %H:%M:%S %z %Y")
            items.append((int(at.timestamp()), True))
    return Stream(path.parent.name, sorted(items))


def streams():
    files = sorted(T26.glob("*/*-tweetids_entire_period.csv"))
    if not files:
        sys.exit(f"no held-out files under {T26} (see ../shared/datasets/README.md)")
    return [read_entire_period(f) for f in files]


def part_detection(all_streams) -> dict:
    from dandelion.listening import evaluate as E

    rows = []
    for s in all_streams:
        onset = E.onset_minute(s)
        ours = E.score(s, E.run_detector(s), onset)
        sigma = E.score(s, E.run_hourly(s, "mean_3sigma"), onset)
        weeks = max((s.items[-1][0] - s.items[0][0]) / (7 * 86400), 1 / 7)
        rows.append({"event": s.event, "tweets": len(s.items), "weeks": weeks, "ours": ours.as_dict(),
                     "mean_3sigma": sigma.as_dict()})

    def summary(key):
        scores = [r[key] for r in rows]
        delays = [x["delay_minutes"] for x in scores if x["detected"]]
        return {"recall": sum(x["detected"] for x in scores) / len(scores),
                "median_delay_minutes": statistics.median(delays) if delays else None,
                "false_alerts_per_week": sum(x["false_alerts"] for x in scores) / sum(r["weeks"] for r in rows)}

    return {"events": rows, "ours": summary("ours"), "mean_3sigma": summary("mean_3sigma")}


def setup_django(workdir: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"
    os.environ["DANDELION_VAR_DIR"] = workdir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dandelion.config.settings")
    import django
    from django.conf import settings

    django.setup()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def part_end_to_end(all_streams, n_events: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.core import mail

    from dandelion.core.actors import SYSTEM
    from dandelion.crisis.models import Incident
    from dandelion.listening import evaluate as E
    from dandelion.listening import services as listening
    from dandelion.listening.models import Alert, InboundCursor, MentionMatch
    from dandelion.listening.services import TICK_CURSOR
    from dandelion.notifications.models import Notification
    from dandelion.orgs.choices import Role
    from dandelion.orgs.models import Membership, OrgUnit
    from dandelion.webhooks import services as webhooks
    from dandelion.webhooks.models import WebhookDelivery

    hub = OrgUnit.objects.create(name="Bench hub", slug="bench-hub", kind="hub")
    pr = get_user_model().objects.create_user("bench-pr", "pr@example.org", "x")
    Membership.objects.create(user=pr, unit=hub, role=Role.PR_MANAGER)
    admin = get_user_model().objects.create_user("bench-admin", "admin@example.org", "x")
    Membership.objects.create(user=admin, unit=hub, role=Role.HUB_ADMIN)
    webhooks.create_subscription(actor=admin, unit=hub, name="Slack", url="https://hooks.slack.example.com/x",
                                 event_types=["crisis.incident_opened"])
    # the events in name order, every k-th, so the sample spreads over the list (nothing chosen by its result)
    step = max(len(all_streams) // n_events, 1)
    chosen = all_streams[::step][:n_events]
    out = []
    for idx, s in enumerate(chosen):
        onset = E.onset_minute(s)
        word = f"bench{idx}crisis"
        query = listening.create_query(actor=SYSTEM, unit=hub, name=s.event[:100], text=word)
        per_minute: dict[int, int] = {}
        for second, _rel in s.items:
            per_minute[second // 60] = per_minute.get(second // 60, 0) + 1
        start, stop = onset - 6 * 60, onset + 24 * 60
        # history: the tweets before the live window are stored, and the detector is brought to the live window's
        # start by listening's own backfill (the same code, alerts of the past written but never announced), from
        # a quiet day before the first tweet as in part 1; the minute job's cursor is moved past them
        first = min(per_minute)
        listening.ingest_mentions([listening.MentionInput(
            unit_id=hub.pk, unit_path=hub.path, source="replay", source_ref=f"{idx}-{minute}-{i}",
            text=f"{word} report", posted_at=dt.datetime.fromtimestamp(minute * 60 + 30, dt.UTC))
            for minute, n in per_minute.items() if minute < start for i in range(n)])
        InboundCursor.objects.update_or_create(name=TICK_CURSOR, defaults={
            "last_id": MentionMatch.objects.order_by("-pk").values_list("pk", flat=True).first() or 0})
        listening.backfill_detector(query, actor=SYSTEM, start=dt.datetime.fromtimestamp((first - 1440) * 60, dt.UTC),
                                    end=dt.datetime.fromtimestamp(start * 60, dt.UTC))
        result: dict = {"event": s.event, "room_after_onset_minutes": None}
        mail.outbox = []
        for minute in range(start, stop):
            n = per_minute.get(minute, 0)
            at = dt.datetime.fromtimestamp(minute * 60 + 30, dt.UTC)
            if n:
                listening.ingest_mentions([listening.MentionInput(
                    unit_id=hub.pk, unit_path=hub.path, source="replay", source_ref=f"{idx}-{minute}-{i}",
                    text=f"{word} report", posted_at=at) for i in range(n)])
            t0 = time.perf_counter()
            listening.evaluate_queries(now=dt.datetime.fromtimestamp((minute + 1) * 60, dt.UTC))
            incident = Incident.objects.filter(query=query).first()
            if incident is None:
                continue
            elapsed = time.perf_counter() - t0
            alert = Alert.objects.get(pk=incident.alert_id)
            emails = len(getattr(mail, "outbox", []))
            result.update(
                room_after_onset_minutes=round(alert.started_at.timestamp() / 60 - onset, 1),
                tick_to_room_ms=round(elapsed * 1000, 1),
                alert_to_room_ms=round((incident.created_at - alert.created_at).total_seconds() * 1000, 1),
                bell=Notification.objects.filter(event_type="crisis.incident_opened",
                                                 subject_id=str(incident.pk)).count(),
                emails=emails,
                webhooks=WebhookDelivery.objects.filter(event_type="crisis.incident_opened",
                                                        payload__subject__id=str(incident.pk)).count())
            break
        out.append(result)
        query.is_active = False
        query.save(update_fields=["is_active"])
    rooms = [r for r in out if "tick_to_room_ms" in r]
    return {"events": out,
            "tick_to_room_ms_median": statistics.median(r["tick_to_room_ms"] for r in rooms) if rooms else None,
            "tick_to_room_ms_max": max(r["tick_to_room_ms"] for r in rooms) if rooms else None,
            "alert_to_room_ms_median": statistics.median(r["alert_to_room_ms"] for r in rooms) if rooms else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=5, help="events replayed end to end through the database")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    all_streams = streams()
    with tempfile.TemporaryDirectory(prefix="bench-crisis-") as workdir:
        setup_django(workdir)
        t = time.perf_counter()
        detection = part_detection(all_streams)
        print(f"held-out entire-period streams: {len(all_streams)} events, "
              f"{sum(len(s.items) for s in all_streams):,} tweets ({time.perf_counter() - t:.1f} s)")
        for name in ("ours", "mean_3sigma"):
            s = detection[name]
            print(f"  {name:12} recall {s['recall']:.0%}  median delay {s['median_delay_minutes']} min  "
                  f"false alerts/week {s['false_alerts_per_week']:.2f}")
        for r in detection["events"]:
            print(f"    {r['event']:34} {r['tweets']:6}  ours {r['ours']['delay_minutes']}  "
                  f"3σ {r['mean_3sigma']['delay_minutes']}  false {r['ours']['false_alerts']}")
        e2e = part_end_to_end(all_streams, args.events)
        print(f"end to end ({len(e2e['events'])} events, SQLite): tick → room committed, median "
              f"{e2e['tick_to_room_ms_median']} ms, max {e2e['tick_to_room_ms_max']} ms; alert row → room row "
              f"median {e2e['alert_to_room_ms_median']} ms")
        for r in e2e["events"]:
            print("   ", r)
    if args.json:
        Path(args.json).write_text(json.dumps({"detection": detection, "end_to_end": e2e}, indent=2, default=str))


if __name__ == "__main__":
    main()
