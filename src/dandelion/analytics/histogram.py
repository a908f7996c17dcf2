"""Mergeable duration distributions: fixed, log-spaced histogram buckets.

Every duration (seconds) falls in one bucket of a scale fixed once for all rollups, so two histograms merge by
adding their counts bucket by bucket, and the merge of France's and Spain's days *is* the histogram of their raw
durations together. A percentile read from a merged histogram is therefore exact to the bucket: the bucket it
names is the bucket holding the true percentile of the raw rows (nearest-rank definition).

The scale: bucket 0 holds ``[0 s, 1 s)``; bucket ``i >= 1`` holds ``[R**(i-1), R**i)`` with ``R = 2**(1/8)``
(each bucket about 9 % wider than the one before), up to bucket ``MAX_BUCKET`` (``R**240 = 2**30`` s, 34 years),
which also takes anything longer. A value is reported as its bucket's geometric middle, so the relative error of
a reported percentile is at most ``R**0.5 - 1`` (4.4 %). Histograms are stored sparse, ``{"bucket": count}``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

RATIO = 2 ** (1 / 8)
MAX_BUCKET = 240
_LOG_RATIO = math.log(RATIO)


def bucket_of(seconds: float) -> int:
    """The bucket of a duration (negative durations, clock skew between networks, count as 0)."""
    if seconds < 1:
        return 0
    # floor(log_R(s)) + 1, corrected for floating point at the exact edges
    index = math.floor(math.log(seconds) / _LOG_RATIO) + 1
    if index > 1 and seconds < lower_edge(index):
        index -= 1
    elif seconds >= upper_edge(index):
        index += 1
    return min(index, MAX_BUCKET)


def lower_edge(index: int) -> float:
    return 0.0 if index <= 0 else RATIO ** (index - 1)


def upper_edge(index: int) -> float:
    return 1.0 if index <= 0 else RATIO ** index


def representative(index: int) -> float:
    """The value reported for a bucket: its geometric middle (0.5 s for the first)."""
    if index <= 0:
        return 0.5
    return RATIO ** (index - 0.5)


def add(hist: dict[str, int], seconds: float, count: int = 1) -> None:
    key = str(bucket_of(seconds))
    hist[key] = hist.get(key, 0) + count


def merge(histograms: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """The sum of ``histograms`` (each sparse ``{"bucket": count}``)."""
    out: dict[str, int] = {}
    for hist in histograms:
        for key, count in hist.items():
            out[key] = out.get(key, 0) + int(count)
    return out


def merge_into(target: dict[str, int], hist: Mapping[str, int]) -> None:
    for key, count in hist.items():
        target[key] = target.get(key, 0) + int(count)


def total(hist: Mapping[str, int]) -> int:
    return sum(int(c) for c in hist.values())


def percentile_bucket(hist: Mapping[str, int], q: float) -> int | None:
    """The bucket holding the nearest-rank ``q`` percentile (``q`` in (0, 1]), None for an empty histogram."""
    n = total(hist)
    if n == 0:
        return None
    rank = max(1, math.ceil(q * n))
    seen = 0
    for index in sorted(int(k) for k in hist):
        seen += int(hist[str(index)])
        if seen >= rank:
            return index
    return max(int(k) for k in hist)  # pragma: no cover - rank <= n always stops the loop


def percentile(hist: Mapping[str, int], q: float) -> float | None:
    """The ``q`` percentile in seconds, as the middle of its bucket (see the module's resolution note)."""
    index = percentile_bucket(hist, q)
    return None if index is None else representative(index)


def nearest_rank(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile of raw values: what a histogram percentile is checked against."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]
