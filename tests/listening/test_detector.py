"""The spike detector as a pure state machine: quiet streams stay quiet, a burst opens one alert that is updated
(not repeated) while it lasts and closed after, the anti-spam cap holds, the state survives a round trip."""

from __future__ import annotations

import random

from dandelion.listening import detector as det


def run(state: det.DetectorState, per_minute: dict[int, int], start: int, end: int) -> list[det.Decision]:
    out = []
    for minute in range(start, end):
        if per_minute.get(minute):
            state.observe(minute, per_minute[minute])
        d = state.tick(minute)
        if d is not None:
            out.append(d)
    return out


def poisson_stream(rate_per_hour: float, minutes: int, seed: int = 1) -> dict[int, int]:
    rng = random.Random(seed)
    counts: dict[int, int] = {}
    for m in range(minutes):
        # thinned Bernoulli per second approximates a Poisson process
        n = sum(1 for _ in range(60) if rng.random() < rate_per_hour / 3600)
        if n:
            counts[m] = n
    return counts


def test_tail_probability_is_a_proper_tail():
    assert det.tail_probability(0, 5) == 1.0
    assert det.tail_probability(1, 0.0) == 0.0
    p5, p10, p20 = (det.tail_probability(k, 5.0) for k in (5, 10, 20))
    assert 1 > p5 > p10 > p20 > 0
    assert det.tail_probability(50, 5.0) < 1e-6


def test_severity_grows_with_ratio_and_volume():
    assert det.severity(5, 0.1) < det.severity(500, 10) < det.severity(5000, 10) <= 10
    assert det.severity(3, 10) == 1


def test_a_steady_stream_raises_nothing():
    state = det.DetectorState()
    stream = poisson_stream(30, 3 * 24 * 60)
    decisions = [d for d in run(state, stream, 0, 3 * 24 * 60) if d.action == "open"]
    # a day to learn the level, then at most a stray alert on three days of Poisson noise at 30/h
    assert len([d for d in decisions if d.minute > 24 * 60]) <= 1


def test_a_burst_opens_one_alert_updated_then_closed():
    state = det.DetectorState()
    stream = poisson_stream(10, 2 * 24 * 60)
    burst_start = 2 * 24 * 60 - 120
    for m in range(burst_start, burst_start + 60):
        stream[m] = stream.get(m, 0) + 8
    decisions = run(state, stream, 0, 2 * 24 * 60 + 120)
    opened = [d for d in decisions if d.action == "open" and d.minute >= burst_start]
    assert len(opened) == 1
    assert opened[0].minute - burst_start <= 3  # minutes, not an hour
    assert opened[0].severity >= 3
    after = [d.action for d in decisions if d.minute > opened[0].minute]
    assert "close" in after
    assert after.count("open") == 0 or after.index("close") < after.index("open")


def test_anti_spam_cap():
    state = det.DetectorState()
    decisions = []
    # short bursts separated by quiet: each would open an alert; no more than the cap per hour
    for m in range(6 * 60):
        if m % 31 < 1:
            state.observe(m, 30)
        d = state.tick(m)
        if d is not None:
            decisions.append(d)
    for start in range(6 * 60 - 60):
        opened = [d for d in decisions if d.action == "open" and start <= d.minute < start + 60]
        assert len(opened) <= det.MAX_ALERTS_PER_HOUR


def test_state_round_trip_and_corruption():
    state = det.DetectorState()
    run(state, {1: 3, 2: 5, 70: 1}, 0, 90)
    again = det.DetectorState.from_dict(state.to_dict())
    assert again.to_dict() == state.to_dict()
    assert det.DetectorState.from_dict({"level": "nonsense"}).to_dict() == det.DetectorState().to_dict()
    assert det.DetectorState.from_dict(None).level == det.FLOOR_PER_HOUR


def test_long_gaps_are_cheap():
    state = det.DetectorState()
    state.observe(0, 2)
    state.tick(0)
    state.observe(10 * 365 * 24 * 60, 1)  # ten years later
    assert state.tick(10 * 365 * 24 * 60) is None
