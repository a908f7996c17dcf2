"""A public mention of the brand is told apart from a message addressed to it, and only the latter may need a reply.

The probe set below is labelled by hand (the brand is "Acme", its accounts ``@acme_fr`` on one network and
``acme.bsky.social`` on another): public posts found by a keyword match need no reply; messages addressed to the
brand need one when a person is waiting for an answer. ``test_probe_set_figures`` measures the understanding step's
``needs_reply`` alone against the listening path (figures in docs/listening.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from dandelion.connectors import fake
from dandelion.core.actors import SYSTEM
from dandelion.listening import addressing, services
from dandelion.listening.models import Mention
from dandelion.listening.sources import mentions_from_events
from tests.factories import SocialAccountFactory

HANDLES = frozenset({"acme_fr", "acme.bsky.social"})

# (text, source, kind, addressed, needs_reply)
PROBE = [
    # public mentions: about the brand, not to it
    ("acme is down again, third time this week", "search", "mention", False, False),
    ("Acme customer service is the worst, never again", "search", "mention", False, False),
    ("just bought new acme running shoes, love them", "search", "mention", False, False),
    ("Anyone else think the new acme ads are weird?", "search", "mention", False, False),
    ("Does anybody know if acme delivers on Sundays?", "search", "mention", False, False),
    ("#acme outage map shows the whole north affected", "search", "mention", False, False),
    ("acme stock up 4% after the earnings call", "feed", "mention", False, False),
    ("Acme recalls 20,000 kettles over fire risk", "feed", "mention", False, False),
    ("my sister works at acme and she says it's fine", "replay", "mention", False, False),
    ("Why is acme so expensive now??", "search", "reply", False, False),
    ("la livraison acme est encore en retard, incroyable", "search", "mention", False, False),
    ("Quelqu'un a déjà eu un remboursement chez acme ?", "search", "mention", False, False),
    ("J'adore ma nouvelle bouilloire acme", "search", "mention", False, False),
    ("acme y su servicio al cliente, un desastre", "search", "mention", False, False),
    ("write to contact@acme_fr.example for the press kit", "search", "mention", False, False),
    ("@acme_fr_fans meetup tomorrow, who's coming?", "search", "mention", False, False),
    ("@globex is way better than acme honestly", "search", "mention", False, False),
    ("boycott acme until they fix the kettles", "search", "mention", False, False),
    ("acme app crashed mid-payment, lost 20 minutes", "search", "mention", False, False),
    ("Watching the acme keynote, pretty slick", "search", "mention", False, False),
    # addressed to the brand
    ("@acme_fr my order #4411 never arrived, can you help?", "search", "mention", True, True),
    ("@acme_fr why was I charged twice this month?", "search", "reply", True, True),
    ("hey @acme_fr, your app logs me out every time", "search", "mention", True, True),
    ("@acme.bsky.social is the outage in Lyon going to be fixed today?", "search", "mention", True, True),
    ("@ACME_FR ma commande n'est toujours pas arrivée, que faire ?", "search", "mention", True, True),
    ("Bonjour @acme_fr, comment changer mon adresse de livraison ?", "search", "reply", True, True),
    ("I need a refund for the broken kettle, order 5521", "search", "dm", True, True),
    ("My account is locked, please help me unlock it", "search", "dm", True, True),
    ("Where can I find the invoice for my last order? @acme_fr.", "search", "mention", True, True),
    ("@acme_fr thanks!", "search", "reply", True, False),
]


def test_addressing_on_the_probe_set():
    wrong = [
        (text, addressed)
        for text, source, kind, addressed, _ in PROBE
        if addressing.is_addressed(text, source=source, kind=kind, handles=HANDLES) != addressed
    ]
    assert wrong == []


def test_handles_are_read_as_networks_write_them():
    assert addressing.mentioned_handles("hi @Acme.bsky.social. and @acme@mastodon.social, mail a@b.c") == {
        "acme.bsky.social",
        "acme@mastodon.social",
    }
    assert addressing.is_addressed("anything", source="inbound", handles=())  # it reached our account
    assert not addressing.is_addressed("@acme_fr hello", source="search", handles=())


def test_public_mentions_never_need_a_reply_and_known_verdicts_are_kept():
    assert addressing.needs_reply(
        ["acme down", "@acme_fr help", "x"], [False, True, True], [None, True, False]
    ) == [False, True, False]


def test_without_an_analyzer_an_addressed_mention_needs_a_reply(monkeypatch):
    from dandelion.understanding import analyzer

    def broken():
        raise RuntimeError("no heads")

    monkeypatch.setattr(analyzer, "get_analyzer", broken)
    assert addressing.needs_reply(["@acme_fr help", "acme"], [True, False]) == [True, False]


def _analyzer_or_skip():
    try:
        from dandelion.understanding.analyzer import get_analyzer

        return get_analyzer()
    except Exception as exc:  # noqa: BLE001 - the heads are not trained on this checkout
        pytest.skip(f"the analyzer is not available: {exc}")


def test_probe_set_figures(capsys):
    """The understanding step alone flags most public posts; the listening path flags none of them and keeps the
    addressed messages that wait for an answer."""
    analyzer = _analyzer_or_skip()
    texts = [p[0] for p in PROBE]
    raw = [u.needs_reply for u in analyzer.analyze(texts)]
    addressed = [addressing.is_addressed(t, source=s, kind=k, handles=HANDLES) for t, s, k, _, _ in PROBE]
    ours = addressing.needs_reply(texts, addressed)
    public = [i for i, p in enumerate(PROBE) if not p[3]]
    waiting = [i for i, p in enumerate(PROBE) if p[4]]
    raw_public = sum(raw[i] for i in public) / len(public)
    ours_public = sum(ours[i] for i in public) / len(public)
    ours_recall = sum(ours[i] for i in waiting) / len(waiting)
    accuracy = sum(ours[i] == p[4] for i, p in enumerate(PROBE)) / len(PROBE)
    raw_accuracy = sum(raw[i] == p[4] for i, p in enumerate(PROBE)) / len(PROBE)
    with capsys.disabled():
        print(
            f"\nneeds_reply probe ({len(PROBE)} items, {len(public)} public, {len(waiting)} waiting): "
            f"understanding alone flags {raw_public:.0%} of public mentions (accuracy {raw_accuracy:.0%}); "
            f"listening path flags {ours_public:.0%} of them, recall on waiting messages {ours_recall:.0%} "
            f"(accuracy {accuracy:.0%})"
        )
    assert ours_public == 0
    assert ours_recall >= 0.8
    assert accuracy > raw_accuracy


@pytest.mark.django_db
def test_ingestion_marks_mentions_addressed_or_public(org):
    SocialAccountFactory(owner_unit=org.france, network="x", handle="@acme_fr", external_id="x-acme")
    t = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    events = [
        fake.make_event("acme is down again", kind="mention", external_id="pub", created_at=t),
        fake.make_event(
            "@acme_fr my order never arrived, where is it?", kind="mention", external_id="to-us", created_at=t
        ),
        fake.make_event("refund please", kind="dm", external_id="dm", created_at=t),
    ]
    items = mentions_from_events(events, unit=org.france, source="search", network="x")
    items.append(
        services.MentionInput(
            unit_id=org.france.pk,
            unit_path=org.france.path,
            source="inbound",
            source_ref="msg-1",
            text="merci !",
            posted_at=t,
            needs_reply=False,
        )
    )
    services.ingest_mentions(items, actor=SYSTEM)
    got = {m.source_ref: (m.addressed, m.needs_reply) for m in Mention.objects.all()}
    assert got["pub"] == (False, False)
    assert got["to-us"][0] is True and got["dm"][0] is True
    assert got["msg-1"] == (True, False)  # the inbox's verdict is kept
    assert got["to-us"][1] is True  # a customer waiting (the analyzer's verdict, or recall first without it)
