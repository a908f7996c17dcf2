"""``dandelion listening evaluate``: any CrisisLex-shaped file works (synthetic one here), the JSON has the
required shape, and on CrisisLex T26 itself (dataset-backed) the figures hold."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest
from django.core.management import CommandError, call_command

from dandelion.listening.evaluate import evaluate, read_streams, resample
from tests.conftest import require_datasets


def write_events(path, events):
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["event", "tweet_id", "created_at_utc_from_snowflake", "text", "information_source",
                    "information_type", "informativeness"])
        for name, rows in events.items():
            for i, (at, label) in enumerate(rows):
                w.writerow([name, i, at.strftime("%Y-%m-%dT%H:%M:%SZ"), "t", "x", "x", label])


def synthetic(start: dt.datetime) -> list:
    rows = [(start + dt.timedelta(hours=h, minutes=7), "Not related") for h in range(0, 48, 5)]
    burst = start + dt.timedelta(hours=50, minutes=20)
    rows += [(burst + dt.timedelta(seconds=20 * i), "Related and informative") for i in range(60)]
    rows += [(burst + dt.timedelta(hours=h), "Related - but not informative") for h in range(1, 30, 3)]
    return rows


def test_any_file_of_the_same_columns(tmp_path):
    path = tmp_path / "events.csv"
    write_events(path, {"anything A": synthetic(dt.datetime(2020, 3, 1, tzinfo=dt.UTC)),
                        "whatever B": synthetic(dt.datetime(2021, 7, 9, 5, tzinfo=dt.UTC))})
    out = tmp_path / "out.json"
    call_command("listening", "evaluate", str(path), "--json", str(out))
    result = json.loads(out.read_text())
    assert {"recall", "median_delay_minutes", "false_alerts_per_week", "events", "baselines"} <= set(result)
    assert result["recall"] == 1.0
    for event in result["events"]:
        assert {"event", "detected", "delay_minutes", "false_alerts", "baselines"} <= set(event)
        assert set(event["baselines"]) == {"fixed_threshold", "mean_3sigma_hourly"}
        # onset is the start of the burst's hour (14:00 / 19:00 + 50 h); our detector fires within minutes of
        # the burst's start, the hourly baseline only at the end of the hour
        assert event["delay_minutes"] <= 25
        assert event["baselines"]["mean_3sigma_hourly"]["delay_minutes"] == 60
    assert set(result["baselines"]) == {"fixed_threshold", "mean_3sigma_hourly"}


def test_bad_files_are_refused(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(CommandError, match="missing columns"):
        call_command("listening", "evaluate", str(bad))
    with pytest.raises(CommandError, match="no such file"):
        call_command("listening", "evaluate", str(tmp_path / "nope.csv"))


def test_resampling_keeps_the_shape(tmp_path):
    path = tmp_path / "events.csv"
    write_events(path, {"e": synthetic(dt.datetime(2020, 3, 1, tzinfo=dt.UTC))})
    stream = read_streams(path)[0]
    dense = resample(stream, 10)
    assert len(dense.items) == 10 * len(stream.items)
    assert sum(r for _, r in dense.items) == 10 * sum(r for _, r in stream.items)
    assert abs(dense.items[0][0] - stream.items[0][0]) <= 1800


@pytest.mark.datasets
@pytest.mark.slow
def test_crisislex_t26():
    path = require_datasets("crisislex", "CrisisLexT26_labeled_all_events_with_snowflake_time.csv")
    result = evaluate(path)
    assert result["events_count"] == 26
    assert result["recall"] >= 0.9
    assert result["false_alerts_per_week"] <= 1.0
    hourly = result["baselines"]["mean_3sigma_hourly"]["median_delay_minutes"]
    assert result["median_delay_minutes"] < hourly
