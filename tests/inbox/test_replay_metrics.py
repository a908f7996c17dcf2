"""Metrics on a hand-counted fixture, and replays of twcs (a small file written here, and the real 10k sample)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from dandelion.inbox import services
from dandelion.inbox.metrics import inbox_metrics, percentile
from dandelion.inbox.models import Conversation, Message
from tests.conftest import require_datasets
from tests.inbox.conftest import event

pytestmark = pytest.mark.django_db


def test_percentile():
    assert percentile([], 0.5) is None
    assert percentile([10], 0.9) == 10
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile(list(range(1, 11)), 0.9) == pytest.approx(9.1)


def test_metrics_on_a_hand_counted_fixture(inbox, deliver, api_for):
    """Four French questions (one answered after 10 min, one after 30 min, by echo), one Spanish one answered
    through Dandelion, one unanswered French one:

    response rate 3/4 (FR) + 1/1 (ES) = 4/5 overall... minus the unanswered → see below."""
    t0 = timezone.now() - dt.timedelta(hours=3)
    m = dt.timedelta(minutes=1)
    deliver(inbox.fr_account,
            event("Bonjour, où est ma commande ?", id="a", author="fa", at=t0, language="fr"),
            event("Réponse A", id="ra", author="brand", in_reply_to="a", from_account=True, at=t0 + 10 * m),
            event("Bonjour, ma facture est fausse ?", id="b", author="fb", at=t0, language="fr"),
            event("Réponse B", id="rb", author="brand", in_reply_to="b", from_account=True, at=t0 + 30 * m),
            event("Bonjour, personne ne répond ?", id="c", author="fc", at=t0, language="fr"))
    deliver(inbox.es_account, event("Hola, ¿dónde está mi pedido?", id="d", author="ed", at=t0, language="es"))
    services.reply_to_conversation(Conversation.objects.get(messages__external_id="d"), text="¡Hola!",
                                   actor=inbox.users.es_agent)
    needing = Message.objects.filter(direction="inbound", needs_reply=True).count()
    assert needing == 4  # the real classifier says all four questions need a reply

    data = inbox_metrics(since=(t0 - dt.timedelta(days=1)).date(), until=timezone.now().date(), group_by="team")
    totals = data["totals"]
    assert totals["inbound"] == 4 and totals["needing_reply"] == 4 and totals["answered"] == 3
    assert totals["response_rate"] == pytest.approx(0.75)
    rows = {r["label"]: r for r in data["rows"]}
    fr, es = rows["FR helpers"], rows["ES helpers"]
    assert (fr["inbound"], fr["answered"], fr["response_rate"]) == (3, 2, pytest.approx(2 / 3))
    assert fr["first_response_median_s"] == pytest.approx(20 * 60)  # 10 and 30 minutes
    assert fr["first_response_p90_s"] == pytest.approx(28 * 60)
    assert fr["sla_hit"] == 2 and fr["sla_missed"] == 0 and fr["sla_hit_rate"] == 1.0  # one-hour target
    assert es["answered"] == 1 and es["sla_hit"] == 0 and es["sla_missed"] == 1  # answered 3 h late
    assert totals["sla_hit_rate"] == pytest.approx(2 / 3)
    by_lang = {r["key"]: r for r in inbox_metrics(group_by="language")["rows"]}
    assert by_lang["fr"]["answered"] == 2 and by_lang["es"]["answered"] == 1
    # the API, and the scope: the Spanish agent sees Spain only
    api = api_for(inbox.users.es_agent)
    r = api.get(f"/api/v1/metrics/inbox/?since={(t0 - dt.timedelta(days=1)).date()}&group_by=account")
    assert r.status_code == 200 and r.json()["totals"]["inbound"] == 1
    assert api.get("/api/v1/metrics/inbox/?group_by=nonsense").status_code == 400


def test_metrics_page(inbox, deliver, client_for):
    deliver(inbox.fr_account, event("Bonjour ?", id="p1", author="p", language="fr"))
    r = client_for(inbox.users.fr_admin).get("/inbox/metrics/?group_by=language")
    assert r.status_code == 200 and "Response rate" in r.content.decode()


# --- replay -----------------------------------------------------------------------------------------------------------

TWCS_HEADER = ["tweet_id", "author_id", "inbound", "created_at", "text", "response_tweet_id",
               "in_response_to_tweet_id"]
TWCS_ROWS = [
    ["1", "115712", "True", "Tue Oct 31 22:10:47 +0000 2017", "@sprintcare my phone has no signal since noon",
     "2", ""],
    ["2", "sprintcare", "False", "Tue Oct 31 22:20:47 +0000 2017", "@115712 Sorry to hear that! Please DM us.",
     "3", "1"],
    ["3", "115712", "True", "Tue Oct 31 22:25:00 +0000 2017", "@sprintcare done, check your DMs", "", "2"],
    ["4", "115713", "True", "Tue Oct 31 23:00:00 +0000 2017", "@sprintcare why is my bill so high??", "", ""],
    ["5", "115714", "True", "Tue Oct 31 23:05:00 +0000 2017", "@AppleSupport my iphone keeps restarting", "6", ""],
    ["6", "AppleSupport", "False", "Tue Oct 31 23:15:00 +0000 2017", "@115714 Let's fix that. Which iOS?",
     "", "5"],
]


@pytest.fixture
def twcs_file(tmp_path):
    path = tmp_path / "twcs_small.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(TWCS_HEADER)
        writer.writerows(TWCS_ROWS)
    return path


def _replay(*args, **options):
    out = io.StringIO()
    call_command("replay", *args, stdout=out, no_progress=True, **options)
    return out.getvalue()


def test_replay_small_twcs_reports_unknown_handles_and_creates_nothing(inbox, twcs_file):
    from dandelion.assets.models import SocialAccount

    before = SocialAccount.objects.count()
    out = _replay("twcs", str(twcs_file))
    assert "unknown account handles" in out and "@sprintcare" in out and "@AppleSupport" in out
    assert SocialAccount.objects.count() == before and Message.objects.count() == 0


def test_replay_small_twcs_with_created_accounts(inbox, twcs_file):
    out = _replay("twcs", str(twcs_file), create_accounts=True, unit="europe", network="x")
    assert "created 2 replay accounts" in out
    assert Message.objects.count() == 6
    sprint = Conversation.objects.get(messages__external_id="twcs-1")
    assert sprint.account.handle == "@sprintcare" and sprint.messages.count() == 3
    assert sprint.first_response_at is not None
    assert Message.objects.get(external_id="twcs-1").replied
    assert not Message.objects.get(external_id="twcs-4").replied
    # replaying again changes nothing
    out = _replay("twcs", str(twcs_file), create_accounts=True, unit="europe", network="x")
    assert "duplicates 6" in out and Message.objects.count() == 6
    data = inbox_metrics(group_by="account")
    assert data["totals"]["inbound"] == 4 and data["totals"]["inbound_answered"] == 2


def test_replay_enqueue_leaves_work_to_the_workers(inbox, twcs_file):
    from dandelion.inbox.jobs import process_pending_deliveries
    from dandelion.inbox.models import InboundDelivery

    _replay("twcs", str(twcs_file), account=inbox.fr_account.pk, enqueue=True, batch=2)
    assert InboundDelivery.objects.filter(state="pending", source="replay").count() == 3
    assert Message.objects.count() == 0
    process_pending_deliveries.call()
    assert Message.objects.count() == 6


def test_replay_at_speed_restamps_events_live_and_caps_waits(inbox, twcs_file, monkeypatch):
    """``--speed N --max-delay S``: a 2017 dataset plays as today's traffic (a live demo inbox with running SLA
    clocks), the dataset's gaps shortened N times and never longer than S seconds."""
    from dandelion.connectors.replay import records

    waits: list[float] = []
    real_play = records.play
    monkeypatch.setattr(records, "play", lambda *a, **kw: real_play(*a, sleep=waits.append, **kw))
    started = timezone.now()
    _replay("twcs", str(twcs_file), account=inbox.fr_account.pk, speed=60, max_delay=30)
    assert Message.objects.count() == 6
    assert all(m.sent_at >= started - dt.timedelta(seconds=1) for m in Message.objects.all())
    assert max(waits) == 30 and 10.0 in waits  # 10 minutes 60 times faster; 35 minutes capped at 30 s
    with pytest.raises(CommandError, match="max-delay"):
        _replay("twcs", str(twcs_file), account=inbox.fr_account.pk, speed=60, max_delay=-1)


def _direct_twcs_count(path):
    """From the file alone: inbound customer tweets, and those a brand tweet in the file replies to."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    clean = lambda v: (v or "").strip().removesuffix(".0")
    inbound = {clean(r["tweet_id"]) for r in rows if r["inbound"] == "True"}
    answered = {clean(r["in_response_to_tweet_id"]) for r in rows if r["inbound"] == "False"} & inbound
    return len(inbound), len(answered)


@pytest.mark.slow
def test_replay_real_twcs_10k_metrics_match_the_file(inbox, capsys):
    path = require_datasets("twcs_customer_support", "twcs_combined_10k.csv")
    inbound, answered = _direct_twcs_count(path)
    started = time.monotonic()
    out = _replay("twcs", str(path), account=inbox.fr_account.pk)
    elapsed = time.monotonic() - started
    data = inbox_metrics(group_by="account")
    totals = data["totals"]
    with capsys.disabled():
        print(f"\n[twcs 10k] file: {inbound} inbound, {answered} answered ({answered / inbound:.4f}); "
              f"dandelion: {totals['inbound']} inbound, {totals['inbound_answered']} answered "
              f"({totals['inbound_answered'] / totals['inbound']:.4f}); needing a reply {totals['needing_reply']}, "
              f"answered {totals['answered']} (response rate {totals['response_rate']:.4f}); "
              f"first response median {totals['first_response_median_s']:.0f} s, "
              f"p90 {totals['first_response_p90_s']:.0f} s; replay {elapsed:.1f} s\n{out}")
    assert totals["inbound"] == inbound
    assert totals["inbound_answered"] == answered
    assert totals["inbound_answered"] / totals["inbound"] == pytest.approx(answered / inbound)
