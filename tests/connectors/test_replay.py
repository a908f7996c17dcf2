"""Replay readers (on small files written here and on the real datasets), the demo generator, the connector."""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import os
from pathlib import Path

import pytest

from dandelion.connectors import registry
from dandelion.connectors.base import AccountRef
from dandelion.connectors.errors import ConnectorError
from dandelion.connectors.replay import (
    DEMO_LANGUAGES,
    ReplayError,
    generate_demo,
    open_replay,
    play,
)

TWCS_CSV = """tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id
1,sprintcare,False,Tue Oct 31 22:10:47 +0000 2017,@115712 Please send us a DM.,2,3
2,115712,True,Tue Oct 31 22:11:45 +0000 2017,@sprintcare and how do you propose we do that,,1
3,115712,True,Tue Oct 31 22:08:27 +0000 2017,@sprintcare I have sent several private messages,1,
10,200001,True,Tue Oct 31 22:00:00 +0000 2017,"@AskAmex my card, again, declined",,
11,200002,True,Tue Oct 31 22:09:00 +0000 2017,@nobody_brand hello,,
12,AskAmex,False,Tue Oct 31 23:00:00 +0000 2017,@200003 sorry to hear,,99
"""


def datasets(*parts: str) -> Path:
    root = Path(
        os.environ.get("DANDELION_DATASETS") or Path(__file__).resolve().parents[3] / "shared" / "datasets"
    )
    path = root.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"dataset {path} is required under CI")
        pytest.skip(f"dataset {path} not present (set DANDELION_DATASETS; see ../shared/datasets/README.md)")
    return path


@pytest.fixture
def twcs_file(tmp_path):
    path = tmp_path / "twcs.csv"
    path.write_text(TWCS_CSV, encoding="utf-8")
    return path


# --- twcs --------------------------------------------------------------------------------------------------------


def test_twcs_small_file(twcs_file):
    records = list(open_replay("twcs", twcs_file))
    ids = [r.event.external_id for r in records]
    assert ids == ["twcs-10", "twcs-3", "twcs-11", "twcs-1", "twcs-2", "twcs-12"]  # created_at order
    by_id = {r.event.external_id: r for r in records}

    start = by_id["twcs-3"]
    assert (start.event.kind, start.event.from_account, start.event.in_reply_to) == ("mention", False, None)
    assert start.account_handle == "@sprintcare"  # the brand that answered it
    assert start.event.created_at == dt.datetime(2017, 10, 31, 22, 8, 27, tzinfo=dt.UTC)

    brand = by_id["twcs-1"]
    assert (brand.event.kind, brand.event.from_account, brand.event.in_reply_to) == ("reply", True, "twcs-3")
    assert brand.account_handle == "@sprintcare" and brand.event.author.external_id == "sprintcare"

    follow_up = by_id["twcs-2"]
    assert (follow_up.event.kind, follow_up.event.in_reply_to) == ("reply", "twcs-1")
    assert follow_up.account_handle == "@sprintcare"  # the brand up its reply chain

    assert (
        by_id["twcs-10"].account_handle == "@AskAmex"
    )  # a brand of the file mentioned (case kept from file)
    assert by_id["twcs-11"].account_handle == "@nobody_brand"  # falls back to the first non-numeric mention
    assert by_id["twcs-12"].event.in_reply_to == "twcs-99"  # parent outside the file: still threaded

    assert [r.delay_s for r in records] == [0.0, 507.0, 33.0, 107.0, 58.0, 2895.0]
    assert records[0].event.raw["text"] == "@AskAmex my card, again, declined"


def test_twcs_rejects_files_of_another_shape(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ReplayError, match="missing columns"):
        open_replay("twcs", path)


@pytest.mark.datasets
def test_twcs_real_file():
    records = list(open_replay("twcs", datasets("twcs_customer_support", "twcs_combined_10k.csv")))
    assert len(records) == 9991
    kinds = collections.Counter((r.event.kind, r.event.from_account) for r in records)
    assert kinds[("reply", True)] == 4500  # every brand tweet is an echo
    assert kinds[("mention", False)] + kinds[("reply", False)] == 5491
    times = [r.event.created_at for r in records]
    assert times == sorted(times)
    assert all(r.delay_s >= 0 for r in records)
    assert len({r.event.external_id for r in records}) == len(records)
    resolved = sum(r.account_handle is not None for r in records) / len(records)
    assert resolved > 0.9, resolved
    brands = {r.account_handle for r in records if r.event.from_account}
    assert len(brands) == 102 and "@sprintcare" in brands


# --- xlm-t and crisislex ----------------------------------------------------------------------------------------


def test_xlmt_small_folder(tmp_path):
    folder = tmp_path / "xlm_t_sentiment" / "french"
    folder.mkdir(parents=True)
    (folder / "test_text.txt").write_text("c'est nul\nbof\nj'adore\n", encoding="utf-8")
    (folder / "test_labels.txt").write_text("0\n1\n2\n", encoding="utf-8")
    records = list(open_replay("xlmt", folder, seed=3))
    assert sorted(r.event.text for r in records) == ["bof", "c'est nul", "j'adore"]
    assert {r.event.author.language for r in records} == {"fr"}
    assert {r.event.text: r.event.raw["label"] for r in records}["j'adore"] == "positive"
    assert [r.delay_s for r in records] == [0.0, 30.0, 30.0]
    assert [r.event.text for r in open_replay("xlmt", folder, seed=3)] == [r.event.text for r in records]


@pytest.mark.datasets
def test_xlmt_real_root_mixes_languages():
    records = list(open_replay("xlmt", datasets("xlm_t_sentiment"), split="test"))
    languages = collections.Counter(r.event.author.language for r in records)
    assert set(languages) == {"ar", "en", "fr", "de", "hi", "it", "pt", "es"}
    first_100 = {r.event.author.language for r in records[:100]}
    assert len(first_100) >= 5  # shuffled, not language by language


def test_crisislex_small_file_unescapes_and_sorts(tmp_path):
    path = tmp_path / "crisis.csv"
    path.write_text(
        "event,tweet_id,created_at_utc_from_snowflake,text,information_source,information_type,informativeness\n"
        "e,2,2012-06-08T15:05:28Z,Fire &gt; road &amp;amp; more,Media,Other,Related\n"
        "e,1,2012-06-08T10:23:20Z,first,Media,Other,Not related\n",
        encoding="utf-8",
    )
    records = list(open_replay("crisislex", path))
    assert [r.event.external_id for r in records] == ["crisislex-1", "crisislex-2"]
    assert records[1].event.text == "Fire > road & more"
    assert records[1].delay_s == 4 * 3600 + 42 * 60 + 8
    assert records[1].event.raw["informativeness"] == "Related"


@pytest.mark.datasets
def test_crisislex_real_file():
    records = list(
        open_replay(
            "crisislex", datasets("crisislex", "CrisisLexT26_labeled_all_events_with_snowflake_time.csv")
        )
    )
    assert len(records) == 27933
    assert not any("&amp;" in r.event.text or "&gt;" in r.event.text for r in records)


# --- open_replay -------------------------------------------------------------------------------------------------


def test_open_replay_errors_are_clear(tmp_path):
    with pytest.raises(ReplayError, match="unknown replay format 'tweets'.*twcs, xlmt, crisislex, demo"):
        open_replay("tweets")
    with pytest.raises(ReplayError, match="does not exist"):
        open_replay("twcs", tmp_path / "missing.csv")
    with pytest.raises(ReplayError, match="takes no path"):
        open_replay("demo", tmp_path)


# --- demo generator ----------------------------------------------------------------------------------------------


def take(n: int, **kwargs):
    return list(itertools.islice(generate_demo(**kwargs), n))


def test_demo_is_deterministic_by_seed():
    assert take(300, seed=5) == take(300, seed=5)
    assert [r.event.text for r in take(50, seed=5)] != [r.event.text for r in take(50, seed=6)]


def test_demo_is_multilingual_with_a_realistic_mix():
    records = take(3000, seed=1, accounts=["@dandelion_fr", "@dandelion_es"])
    languages = collections.Counter(r.event.raw["language"] for r in records)
    assert set(languages) == set(DEMO_LANGUAGES) >= {"en", "fr", "es", "pl", "ro", "nl", "ar", "wo", "am"}
    kinds = collections.Counter(r.event.kind for r in records)
    assert 0.35 < kinds["comment"] / 3000 < 0.55
    assert 0.12 < kinds["mention"] / 3000 < 0.28
    assert 0.12 < kinds["dm"] / 3000 < 0.3
    assert 0.1 < kinds["reply"] / 3000 < 0.25
    intents = collections.Counter(r.event.raw["intent"] for r in records)
    assert {"question", "complaint", "praise", "spam"} <= set(intents)
    echoes = [r for r in records if r.event.from_account]
    assert 0.02 < len(echoes) / 3000 < 0.07
    assert {r.account_handle for r in records} == {"@dandelion_fr", "@dandelion_es"}
    wolof = {
        r.event.author.country
        for r in records
        if r.event.raw["language"] == "wo" and not r.event.from_account
    }
    assert wolof == {"SN"}


def test_demo_threads_point_to_earlier_events_of_the_same_account():
    records = take(1000, seed=2, accounts=["@a", "@b"])
    seen = {}
    for r in records:
        if r.event.in_reply_to:
            parent = seen[r.event.in_reply_to]
            assert parent.account_handle == r.account_handle
            assert parent.event.created_at <= r.event.created_at
        seen[r.event.external_id] = r
    assert any(r.event.in_reply_to for r in records)


def test_demo_timing_and_mentions():
    records = take(500, seed=3, accounts=["@shop"], mean_interval_s=10)
    assert records[0].delay_s == 0.0 and records[0].event.created_at == dt.datetime(
        2025, 1, 6, 8, 0, tzinfo=dt.UTC
    )
    mean = sum(r.delay_s for r in records) / len(records)
    assert 7 < mean < 13
    for prev, cur in itertools.pairwise(records):
        assert (cur.event.created_at - prev.event.created_at).total_seconds() == pytest.approx(cur.delay_s)
    assert all(r.event.text.startswith("@shop ") for r in records if r.event.kind == "mention")


def test_demo_account_languages_bias_the_mix():
    records = take(1500, seed=4, accounts={"@pl_shop": ["pl"]})
    languages = collections.Counter(r.event.raw["language"] for r in records)
    assert languages.most_common(1)[0][0] == "pl"


def test_demo_rejects_unknown_languages():
    with pytest.raises(ValueError, match="xx"):
        generate_demo(languages=["xx"])


def test_play_paces_and_retimes():
    slept: list[float] = []
    clock = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    records = take(5, seed=1, mean_interval_s=100)
    played = list(play(records, speedup=10, max_delay_s=5, sleep=slept.append, now=lambda: clock))
    assert slept == [min(r.delay_s / 10, 5) for r in records[1:] if r.delay_s > 0]
    assert {r.event.created_at for r in played} == {clock}


# --- the replay connector ----------------------------------------------------------------------------------------


def replay_account(**config) -> AccountRef:
    return AccountRef(
        id=9, network="x", external_id="x-9", handle="@sprintcare", connector="replay", config=config
    )


def test_replay_connector_polls_in_batches_with_a_time_cursor(twcs_file):
    connector = registry.get("replay")
    account = replay_account(format="twcs", path=str(twcs_file), batch_size=2)
    first = connector.poll(account, None)
    assert [e.external_id for e in first] == ["twcs-3", "twcs-1"]  # other brands' tweets skipped
    second = connector.poll(account, first[-1].created_at)
    assert [e.external_id for e in second] == ["twcs-2"]
    assert connector.poll(account, second[-1].created_at) == []


def test_replay_connector_demo_is_addressed_to_the_account():
    connector = registry.get("replay")
    events = connector.poll(replay_account(format="demo", batch_size=20), None)
    assert len(events) == 20
    assert events == connector.poll(replay_account(format="demo", batch_size=20), None)
    later = connector.poll(replay_account(format="demo", batch_size=5), events[-1].created_at)
    assert later[0].created_at > events[-1].created_at


def test_replay_connector_config_errors():
    connector = registry.get("replay")
    with pytest.raises(ConnectorError):
        connector.poll(replay_account(format="nope"), None)
    with pytest.raises(ConnectorError, match="does not exist"):
        connector.poll(replay_account(format="twcs", path="/nonexistent/twcs.csv"), None)
    assert registry.get("replay").capabilities == {"poll"}
