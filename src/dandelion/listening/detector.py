"""Spike detection: a pure, in-memory state machine per query, evaluated every minute.

The method (docs/listening.md, "Spike detection"):

* **Baseline.** The expected number of matches per hour is a blend of a *level* (an exponentially weighted mean
  of the past hours, ``LEVEL_ALPHA`` per hour) and a *seasonal* profile (one exponentially weighted mean per hour of
  the day, ``SEASON_ALPHA`` per day), the profile weighing in once ``SEASON_MIN_DAYS`` days were seen. Hours are
  winsorised before they update the baseline (at most ``CLIP_FACTOR`` × expected + ``CLIP_ADD``), so a crisis
  does not become the new normal within the hour. The rate never goes below ``FLOOR_PER_HOUR``: a new query with no
  history does not alert on its first few matches.
* **Test.** Every minute, the counts of the last 5, 15 and 60 minutes are compared with the expected count for that
  window (the hourly rate × window / 60). Counts are overdispersed, so the tail probability is that of a negative
  binomial of the same mean and variance ``μ + μ²/DISPERSION`` (P(X ≥ k), the regularised incomplete beta
  function). A window *fires* when P < ``P_OPEN`` and the count reaches ``MIN_VOLUME``.
* **Severity 1–10** grows with the ratio to the expected count and the volume:
  ``round(2·log10(k/μ) + log10(k))`` clamped to 1..10 (5 matches against 0.1 expected: 4; 500 against 10: 6;
  5,000 against 10: 9).
* **Alerts.** A firing window opens an alert unless one is open; an open alert is *updated* (count, peak severity)
  while any window stays beyond ``P_CONTINUE`` and is closed after ``QUIET_MINUTES`` without. At most
  ``MAX_ALERTS_PER_HOUR`` alerts are opened per query in any 60 minutes (the anti-spam cap): more are counted as
  suppressed.

The state is a plain dict (:meth:`DetectorState.to_dict`) stored on the query between ticks; the minute tick of
200 queries is one read, 200 evaluations and one bulk write.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from scipy.special import betainc

WINDOWS = (5, 15, 60)
LEVEL_ALPHA = 0.1
SEASON_ALPHA = 0.2
SEASON_MIN_DAYS = 7
CLIP_FACTOR = 3.0
CLIP_ADD = 5.0
FLOOR_PER_HOUR = 0.2
DISPERSION = 10.0
P_OPEN = 3e-3
P_CONTINUE = 1e-3
MIN_VOLUME = 3
QUIET_MINUTES = 30
MAX_ALERTS_PER_HOUR = 3
MAX_GAP_HOURS = 24 * 14  # empty hours replayed one by one at most (longer gaps: the baseline has decayed anyway)


def tail_probability(k: int, mu: float, dispersion: float = DISPERSION) -> float:
    """P(X ≥ k) for a negative binomial of mean ``mu`` and variance ``mu + mu²/dispersion``."""
    if k <= 0:
        return 1.0
    if mu <= 0:
        return 0.0
    r = dispersion
    p = r / (r + mu)  # success probability; X counts failures before r successes
    return float(betainc(k, r, 1.0 - p))


def severity(k: int, mu: float) -> int:
    if k <= 0:
        return 1
    value = 2 * math.log10(k / max(mu, 1e-3)) + math.log10(k)
    return max(1, min(10, round(value)))


@dataclass
class Decision:
    """What a tick decided: ``open`` a new alert, ``update`` the open one, ``close`` it, or ``suppressed``."""

    action: str
    minute: int
    severity: int = 0
    count: int = 0
    expected: float = 0.0
    window: int = 0
    p_value: float = 1.0
    escalated: bool = False  # an update whose severity rose above the alert's peak (announced again)

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "minute": self.minute, "severity": self.severity, "count": self.count,
                "expected": round(self.expected, 3), "window": self.window, "p_value": self.p_value}


@dataclass
class DetectorState:
    """One query's detector. Times are whole minutes since the epoch (UTC)."""

    level: float = FLOOR_PER_HOUR
    season: list[float] = field(default_factory=lambda: [0.0] * 24)
    days_seen: int = 0
    hour: int | None = None  # the hour (minutes // 60) being counted
    hour_count: int = 0
    minutes: deque = field(default_factory=deque)  # (minute, count) of the last 60 minutes
    open_since: int | None = None
    last_fired: int | None = None
    peak_severity: int = 0
    opened: list[int] = field(default_factory=list)  # minutes alerts were opened, last hour (the cap)
    suppressed: int = 0

    # --- persistence
    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "season": self.season, "days_seen": self.days_seen, "hour": self.hour,
                "hour_count": self.hour_count, "minutes": [list(m) for m in self.minutes],
                "open_since": self.open_since, "last_fired": self.last_fired, "peak_severity": self.peak_severity,
                "opened": self.opened, "suppressed": self.suppressed}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> DetectorState:
        if not data:
            return cls()
        state = cls()
        try:
            state.level = float(data.get("level", FLOOR_PER_HOUR))
            season = [float(x) for x in data.get("season", [])]
            state.season = season if len(season) == 24 else [0.0] * 24
            state.days_seen = int(data.get("days_seen", 0))
            state.hour = data.get("hour")
            state.hour_count = int(data.get("hour_count", 0))
            state.minutes = deque((int(m), int(c)) for m, c in data.get("minutes", []))
            state.open_since = data.get("open_since")
            state.last_fired = data.get("last_fired")
            state.peak_severity = int(data.get("peak_severity", 0))
            state.opened = [int(x) for x in data.get("opened", [])]
            state.suppressed = int(data.get("suppressed", 0))
        except (TypeError, ValueError):
            return cls()  # a corrupted state starts afresh rather than stop the tick
        return state

    # --- the baseline
    def expected_per_hour(self, hour: int) -> float:
        level = self.level
        if self.days_seen >= SEASON_MIN_DAYS:
            level = 0.5 * level + 0.5 * self.season[hour % 24]
        return max(FLOOR_PER_HOUR, level)

    def _close_hour(self, hour: int, count: int) -> None:
        expected = self.expected_per_hour(hour)
        clipped = min(float(count), CLIP_FACTOR * expected + CLIP_ADD)
        self.level += LEVEL_ALPHA * (clipped - self.level)
        slot = hour % 24
        self.season[slot] += SEASON_ALPHA * (clipped - self.season[slot]) if self.days_seen else clipped - self.season[slot]
        if slot == 23:
            self.days_seen += 1

    def _advance_to(self, hour: int) -> None:
        if self.hour is None:
            self.hour = hour
            return
        if hour <= self.hour:
            return
        self._close_hour(self.hour, self.hour_count)
        gap = hour - self.hour - 1
        start = self.hour + 1 + max(0, gap - MAX_GAP_HOURS)
        for h in range(start, hour):
            self._close_hour(h, 0)
        self.hour = hour
        self.hour_count = 0

    # --- input
    def observe(self, minute: int, count: int = 1) -> None:
        """Add ``count`` matches in ``minute`` (late matches of an already closed hour count in the window only)."""
        self._advance_to(minute // 60)
        if minute // 60 == self.hour:
            self.hour_count += count
        if self.minutes and self.minutes[-1][0] == minute:
            self.minutes[-1] = (minute, self.minutes[-1][1] + count)
        elif not self.minutes or self.minutes[-1][0] < minute:
            self.minutes.append((minute, count))
        else:  # out of order within the window
            items = dict(self.minutes)
            items[minute] = items.get(minute, 0) + count
            self.minutes = deque(sorted(items.items()))

    # --- the minute tick
    def window_counts(self, now: int) -> dict[int, int]:
        while self.minutes and self.minutes[0][0] <= now - 60:
            self.minutes.popleft()
        counts = dict.fromkeys(WINDOWS, 0)
        for minute, c in self.minutes:
            age = now - minute
            if age < 0:
                continue
            for w in WINDOWS:
                if age < w:
                    counts[w] += c
        return counts

    def tick(self, now: int) -> Decision | None:
        """Evaluate at minute ``now`` (the windows end with it). Return what happened, or None."""
        self._advance_to(now // 60)
        counts = self.window_counts(now)
        rate = self.expected_per_hour(now // 60)
        best: tuple[float, int, int, float] | None = None  # p, window, count, mu
        for w in WINDOWS:
            k = counts[w]
            mu = rate * w / 60.0
            if k < MIN_VOLUME or k <= mu:
                continue
            p = tail_probability(k, mu)
            if best is None or p < best[0]:
                best = (p, w, k, mu)
        self.opened = [m for m in self.opened if m > now - 60]
        if self.open_since is not None:
            if best is not None and best[0] < P_CONTINUE:
                self.last_fired = now
                sev = severity(best[2], best[3])
                if sev > self.peak_severity or best[0] < P_OPEN:
                    escalated = sev > self.peak_severity
                    self.peak_severity = max(self.peak_severity, sev)
                    return Decision("update", now, self.peak_severity, best[2], best[3], best[1], best[0],
                                    escalated=escalated)
                return None
            if self.last_fired is not None and now - self.last_fired >= QUIET_MINUTES:
                started = self.open_since
                self.open_since = None
                self.peak_severity = 0
                return Decision("close", now, window=now - started)
            return None
        if best is None or best[0] >= P_OPEN:
            return None
        if len(self.opened) >= MAX_ALERTS_PER_HOUR:
            self.suppressed += 1
            return Decision("suppressed", now, severity(best[2], best[3]), best[2], best[3], best[1], best[0])
        self.open_since = now
        self.last_fired = now
        self.opened.append(now)
        self.peak_severity = severity(best[2], best[3])
        return Decision("open", now, self.peak_severity, best[2], best[3], best[1], best[0])
