"""The histograms merge exactly: a percentile read from merged histograms names the bucket of the raw rows'
percentile, whatever the split (so a region's p90 is its countries' merged, never an average of averages)."""

from __future__ import annotations

import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from dandelion.analytics import histogram

durations = st.lists(st.floats(min_value=0, max_value=40 * 86400, allow_nan=False), min_size=1, max_size=300)


@settings(max_examples=200, deadline=None)
@given(values=durations, cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=6),
       q=st.sampled_from([0.5, 0.9, 0.95, 0.99]))
def test_percentile_of_merged_histograms_is_the_bucket_of_the_raw_percentile(values, cuts, q):
    bounds = sorted({0, len(values), *[c % (len(values) + 1) for c in cuts]})
    parts = []
    for lo, hi in itertools.pairwise(bounds):
        hist: dict[str, int] = {}
        for v in values[lo:hi]:
            histogram.add(hist, v)
        parts.append(hist)
    merged = histogram.merge(parts)
    assert histogram.total(merged) == len(values)
    assert histogram.percentile_bucket(merged, q) == histogram.bucket_of(histogram.nearest_rank(values, q))


@given(st.floats(min_value=0, max_value=2**31, allow_nan=False))
def test_a_value_lies_in_its_bucket_and_the_reported_value_is_within_resolution(seconds):
    index = histogram.bucket_of(seconds)
    assert histogram.lower_edge(index) <= seconds
    if index < histogram.MAX_BUCKET:
        assert seconds < histogram.upper_edge(index)
    if seconds >= 1 and index < histogram.MAX_BUCKET:
        assert abs(math.log(histogram.representative(index) / seconds)) <= math.log(histogram.RATIO) / 2 + 1e-9


def test_edges():
    assert histogram.bucket_of(0) == 0 and histogram.bucket_of(0.999) == 0
    assert histogram.bucket_of(1) == 1
    assert histogram.bucket_of(60) == histogram.bucket_of(61) - 1 or histogram.bucket_of(60) == histogram.bucket_of(61)
    assert histogram.percentile({}, 0.5) is None
