"""``dandelion listening evaluate``: replay CrisisLex-shaped files through the real detector and score it.

Each event of the file is the stream of one query (its tweets, related or not, are the query's matches), replayed
in accelerated time: the detector (:mod:`dandelion.listening.detector`, the very code of the minute job) is ticked
once per simulated minute, from one quiet day before the event's first tweet to an hour after its last. Scores:

* **onset**: the start of the first hour whose *related* tweet count reaches 10 % of the event's busiest hour;
* **detected / delay**: the first alert opened at or after the onset, within ``HORIZON_HOURS``, whose firing window
  holds a related tweet (or the first re-announcement of a continuing alert whose severity rose: the
  ``listening.alert_updated`` event people get); the delay runs from the onset to the end of that minute;
* **false alerts**: alerts opened before the onset, or whose firing window holds no related tweet; per week of
  replayed time (first to last tweet of each event, summed).

Two baselines are scored in the same run on the same streams: a fixed threshold (``FIXED_THRESHOLD`` matches in a
clock hour, checked at the end of each hour) and the "24 h mean + 3σ" rule checked hourly (the hour's count
against the mean and standard deviation of the 24 hours before, with the same minimum volume as ours). A run of
consecutive firing hours is one alert for both. Nothing depends on an event's name.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dandelion.listening import detector as det

FILE_NAME = "CrisisLexT26_labeled_all_events_with_snowflake_time.csv"
RELATED = frozenset({"related and informative", "related - but not informative"})
HORIZON_HOURS = 24
FIXED_THRESHOLD = 10
SIGMA_HISTORY_HOURS = 24
PAD_MINUTES = 24 * 60
MAX_CELL_SECONDS = 1800


class EvaluationError(ValueError):
    pass


@dataclass
class Stream:
    event: str
    items: list[tuple[int, bool]]  # (second since epoch, related)


@dataclass
class Alert:
    minute: int  # raised at the end of this minute
    window: int  # minutes of the firing window
    escalation: bool = False  # a continuing alert announced again because its severity rose (not a new alert)


@dataclass
class Score:
    detected: bool
    delay_minutes: float | None
    false_alerts: int
    alerts: int

    def as_dict(self) -> dict[str, Any]:
        return {"detected": self.detected, "delay_minutes": self.delay_minutes, "false_alerts": self.false_alerts,
                "alerts": self.alerts}


@dataclass
class EventResult:
    event: str
    tweets: int
    related: int
    onset: dt.datetime
    span_hours: float
    ours: Score
    baselines: dict[str, Score] = field(default_factory=dict)


def _parse_time(value: str) -> int:
    value = value.strip().replace("Z", "+00:00")
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp())


def read_streams(path: Path) -> list[Stream]:
    """The file's events as streams, in the order they first appear."""
    streams: dict[str, list[tuple[int, bool]]] = {}
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.DictReader(fh)
        names = set(reader.fieldnames or ())
        time_col = "created_at_utc_from_snowflake" if "created_at_utc_from_snowflake" in names else "created_at"
        missing = {"event", time_col, "informativeness"} - names
        if missing:
            raise EvaluationError(f"{path}: missing columns {sorted(missing)}")
        for line, row in enumerate(reader, start=2):
            try:
                second = _parse_time(row[time_col] or "")
            except ValueError:
                raise EvaluationError(f"{path}:{line}: bad time {row[time_col]!r}") from None
            related = (row["informativeness"] or "").strip().lower() in RELATED
            streams.setdefault(row["event"] or "", []).append((second, related))
    return [Stream(name, sorted(items)) for name, items in streams.items()]


def resample(stream: Stream, density: int, seed: int = 0) -> Stream:
    """A stream ``density`` times denser with the same shape: each tweet is replaced by ``density`` tweets drawn
    uniformly over its own cell (half-way to the previous and the next tweet, at most ``MAX_CELL_SECONDS`` on each
    side): the piecewise-constant rate estimate of the stream, scaled. Copies are not stacked on the original
    second (that would turn every lone tweet into a burst of ``density``)."""
    if density <= 1:
        return stream
    rng = random.Random(f"{seed}:{stream.event}")
    times = [s for s, _ in stream.items]
    items = []
    for i, (second, rel) in enumerate(stream.items):
        lo = (times[i - 1] + second) / 2 if i else second - MAX_CELL_SECONDS
        hi = (second + times[i + 1]) / 2 if i + 1 < len(times) else second + MAX_CELL_SECONDS
        lo, hi = max(lo, second - MAX_CELL_SECONDS), min(hi, second + MAX_CELL_SECONDS)
        items.extend((int(rng.uniform(lo, hi)), rel) for _ in range(density))
    return Stream(stream.event, sorted(items))


def onset_minute(stream: Stream) -> int:
    hours = Counter(s // 3600 for s, rel in stream.items if rel)
    if not hours:
        raise EvaluationError(f"event {stream.event!r} has no related tweet")
    peak = max(hours.values())
    first = min(h for h, c in hours.items() if c >= 0.1 * peak)
    return first * 60


def run_detector(stream: Stream) -> list[Alert]:
    """Tick the real detector once per simulated minute over the stream."""
    per_minute = Counter(s // 60 for s, _ in stream.items)
    first, last = min(per_minute), max(per_minute)
    state = det.DetectorState()
    alerts: list[Alert] = []
    for minute in range(first - PAD_MINUTES, last + 61):
        n = per_minute.get(minute)
        if n:
            state.observe(minute, n)
        if not state.minutes and state.open_since is None:
            continue  # nothing in any window, nothing open: the tick would decide nothing
        decision = state.tick(minute)
        if decision is not None and decision.action == "open":
            alerts.append(Alert(minute, decision.window))
        elif decision is not None and decision.escalated:
            alerts.append(Alert(minute, decision.window, escalation=True))
    return alerts


def run_hourly(stream: Stream, rule: str) -> list[Alert]:
    hours = Counter(s // 3600 for s, _ in stream.items)
    first, last = min(hours), max(hours)
    alerts: list[Alert] = []
    history: list[int] = [0] * SIGMA_HISTORY_HOURS  # the quiet day before, as for our detector
    firing = False
    for hour in range(first, last + 1):
        count = hours.get(hour, 0)
        if rule == "fixed_threshold":
            fires = count >= FIXED_THRESHOLD
        else:
            past = history[-SIGMA_HISTORY_HOURS:]
            mean = statistics.fmean(past)
            sigma = statistics.pstdev(past)
            fires = count >= det.MIN_VOLUME and count > mean + 3 * sigma
        if fires and not firing:
            alerts.append(Alert(hour * 60 + 59, 60))
        firing = fires
        history.append(count)
    return alerts


def score(stream: Stream, alerts: Iterable[Alert], onset: int) -> Score:
    related_minutes = Counter(s // 60 for s, rel in stream.items if rel)
    detected_delay: float | None = None
    false = 0
    total = 0
    for alert in alerts:
        has_related = any(related_minutes.get(m) for m in range(alert.minute - alert.window + 1, alert.minute + 1))
        if not alert.escalation:
            total += 1
            if alert.minute < onset or not has_related:
                false += 1
                continue
        elif alert.minute < onset or not has_related:
            continue
        if detected_delay is None and alert.minute < onset + HORIZON_HOURS * 60:
            detected_delay = float(alert.minute + 1 - onset)
    return Score(detected_delay is not None, detected_delay, false, total)


def evaluate(path: Path, *, density: int = 1, seed: int = 0) -> dict[str, Any]:
    originals = [s for s in read_streams(path) if any(rel for _, rel in s.items)]
    if not originals:
        raise EvaluationError(f"{path}: no event with a related tweet")
    results: list[EventResult] = []
    for original in originals:
        onset = onset_minute(original)  # the event's onset, whatever the density it is replayed at
        stream = resample(original, density, seed)
        span_h = (stream.items[-1][0] - stream.items[0][0]) / 3600 + 1
        results.append(EventResult(
            event=stream.event, tweets=len(stream.items), related=sum(1 for _, r in stream.items if r),
            onset=dt.datetime.fromtimestamp(onset * 60, dt.UTC), span_hours=span_h,
            ours=score(stream, run_detector(stream), onset),
            baselines={rule: score(stream, run_hourly(stream, rule), onset)
                       for rule in ("fixed_threshold", "mean_3sigma_hourly")},
        ))
    weeks = sum(r.span_hours for r in results) / (24 * 7)

    def summary(scores: list[Score]) -> dict[str, Any]:
        delays = [s.delay_minutes for s in scores if s.delay_minutes is not None]
        return {"recall": round(sum(s.detected for s in scores) / len(scores), 4),
                "median_delay_minutes": statistics.median(delays) if delays else None,
                "false_alerts_per_week": round(sum(s.false_alerts for s in scores) / weeks, 3),
                "false_alerts": sum(s.false_alerts for s in scores)}

    ours = summary([r.ours for r in results])
    return {
        **{k: ours[k] for k in ("recall", "median_delay_minutes", "false_alerts_per_week")},
        "false_alerts": ours["false_alerts"],
        "events_count": len(results),
        "weeks_replayed": round(weeks, 3),
        "density": density,
        "method": {"windows_minutes": list(det.WINDOWS), "p_open": det.P_OPEN, "min_volume": det.MIN_VOLUME,
                   "dispersion": det.DISPERSION, "level_alpha": det.LEVEL_ALPHA, "floor_per_hour": det.FLOOR_PER_HOUR},
        "baselines": {rule: summary([r.baselines[rule] for r in results])
                      for rule in ("fixed_threshold", "mean_3sigma_hourly")},
        "events": [{"event": r.event, "tweets": r.tweets, "related": r.related, "onset": r.onset.isoformat(),
                    **r.ours.as_dict(),
                    "baselines": {k: v.as_dict() for k, v in r.baselines.items()}} for r in results],
    }


def format_report(result: dict[str, Any]) -> str:
    def cell(s: dict[str, Any]) -> str:
        delay = "-" if s["delay_minutes"] is None else f"{s['delay_minutes']:.0f} min"
        return f"{'yes' if s['detected'] else 'NO':>3} {delay:>9} {s['false_alerts']:>3}"

    lines = [f"{'event':<34} {'ours: det delay false':>22} | {'fixed threshold':>17} | {'24h mean+3σ hourly':>17}"]
    for e in result["events"]:
        b = e["baselines"]
        lines.append(f"{e['event'][:34]:<34} {cell(e):>22} | {cell(b['fixed_threshold']):>17} | "
                     f"{cell(b['mean_3sigma_hourly']):>17}")

    def tot(s: dict[str, Any]) -> str:
        delay = "-" if s["median_delay_minutes"] is None else f"{s['median_delay_minutes']:.0f} min"
        return (f"recall {s['recall']:.0%}, median delay {delay}, "
                f"false alerts {s['false_alerts_per_week']:.2f}/week")

    lines.append("")
    lines.append(f"in all ({result['events_count']} events, {result['weeks_replayed']:.1f} weeks replayed, "
                 f"density ×{result['density']}):")
    lines.append(f"  ours:               {tot(result)}")
    for rule, label in (("fixed_threshold", "fixed threshold:   "), ("mean_3sigma_hourly", "24h mean+3σ hourly:")):
        lines.append(f"  {label} {tot(result['baselines'][rule])}")
    return "\n".join(lines)


def default_file(datasets: str | Path) -> Path:
    base = Path(datasets)
    path = base / "crisislex" / FILE_NAME if base.is_dir() else base
    if not path.is_file():
        raise EvaluationError(f"{path}: no such file (give the datasets folder or a CrisisLex-shaped CSV)")
    return path


