"""The rollup of one day, pure and in memory: plain records in, one :class:`Cell` per
``(account, team, language)`` out. The database adapters (``services.rebuild_day``) load the records and write the
cells; the demo and the tests feed generated records to the same code.

What counts where (``docs/analytics.md`` has the definitions):

* an **inbound message** counts on the day it was sent (``sent_at``), under its conversation's account and team and
  its own language: inbound, needs reply (visible and needing a reply), answered (of those, replied), hidden (not
  visible), hidden as spam / abuse (score ≥ 0.5), sentiment mix;
* a **conversation** counts on the day of its first inbound message, under its own language: its first response
  time (``first_response_at - first_inbound_at``) and, once resolved, its resolution time
  (``resolved_at - first_inbound_at``) go into the day's histograms;
* an **SLA target** (first response, next response, resolution) counts on the day it started, once met or breached;
* **publishing and the networks' figures** (:class:`SocialRecord`, under the account with no team and no language:
  posts carry neither): posts sent that day and the clicks on their short links; the engagement the networks
  reported that day (likes, replies, reposts, quotes: the rise of each post's running totals since its previous
  reading); the followers gained that day (the rise of the account's count since its previous reading).

A late reply changes the day of the message it answers: that is why recent days are recomputed (``jobs``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, fields

from dandelion.analytics import histogram

SPAM_THRESHOLD = 0.5
ABUSE_THRESHOLD = 0.5
SENTIMENTS = ("positive", "neutral", "negative")

Key = tuple[int, int | None, str]  # (account id, team id or None, language code or "")


@dataclass(frozen=True, slots=True)
class InboundRecord:
    account_id: int
    team_id: int | None
    language: str
    sent_at: dt.datetime
    needs_reply: bool
    visible: bool
    replied: bool
    spam: float = 0.0
    abuse: float = 0.0
    sentiment: str = ""


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    account_id: int
    team_id: int | None
    language: str
    first_inbound_at: dt.datetime
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class SlaRecord:
    account_id: int
    team_id: int | None
    language: str
    started_at: dt.datetime
    met: bool


@dataclass(frozen=True, slots=True)
class SocialRecord:
    """One account's publishing and network figures of the day (each sums; engagement and followers can fall)."""

    account_id: int
    posts: int = 0
    link_clicks: int = 0
    likes: int = 0
    replies: int = 0
    reposts: int = 0
    quotes: int = 0
    followers_gained: int = 0


SOCIAL = ("posts", "link_clicks", "likes", "replies", "reposts", "quotes", "followers_gained")
COUNTERS = ("inbound", "needs_reply", "answered", "inbound_answered", "hidden", "hidden_spam", "hidden_abuse",
            "sentiment_positive", "sentiment_neutral", "sentiment_negative", "conversations", "first_responses",
            "frt_sum_s", "resolutions", "resolution_sum_s", "sla_met", "sla_breached", *SOCIAL)
HISTOGRAMS = ("frt_hist", "resolution_hist")


@dataclass
class Cell:
    """The figures of one (account, team, language) on one day; every field sums, histograms merge."""

    inbound: int = 0
    needs_reply: int = 0
    answered: int = 0
    inbound_answered: int = 0
    hidden: int = 0
    hidden_spam: int = 0
    hidden_abuse: int = 0
    sentiment_positive: int = 0
    sentiment_neutral: int = 0
    sentiment_negative: int = 0
    conversations: int = 0
    first_responses: int = 0
    frt_sum_s: int = 0
    resolutions: int = 0
    resolution_sum_s: int = 0
    sla_met: int = 0
    sla_breached: int = 0
    posts: int = 0
    link_clicks: int = 0
    likes: int = 0
    replies: int = 0
    reposts: int = 0
    quotes: int = 0
    followers_gained: int = 0
    frt_hist: dict[str, int] = field(default_factory=dict)
    resolution_hist: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _seconds(later: dt.datetime, earlier: dt.datetime) -> int:
    return max(0, round((later - earlier).total_seconds()))


def roll_up(inbound: Iterable[InboundRecord], conversations: Iterable[ConversationRecord],
            slas: Iterable[SlaRecord], social: Iterable[SocialRecord] = ()) -> dict[Key, Cell]:
    """The cells of one day from that day's records (the caller selects them by the dates above)."""
    cells: dict[Key, Cell] = {}

    def cell(account_id: int, team_id: int | None, language: str) -> Cell:
        key = (account_id, team_id, language or "")
        if key not in cells:
            cells[key] = Cell()
        return cells[key]

    for m in inbound:
        c = cell(m.account_id, m.team_id, m.language)
        c.inbound += 1
        if m.replied:
            c.inbound_answered += 1
        if m.visible:
            if m.needs_reply:
                c.needs_reply += 1
                if m.replied:
                    c.answered += 1
        else:
            c.hidden += 1
            if m.spam >= SPAM_THRESHOLD:
                c.hidden_spam += 1
            if m.abuse >= ABUSE_THRESHOLD:
                c.hidden_abuse += 1
        if m.sentiment in SENTIMENTS:
            setattr(c, f"sentiment_{m.sentiment}", getattr(c, f"sentiment_{m.sentiment}") + 1)

    for conv in conversations:
        c = cell(conv.account_id, conv.team_id, conv.language)
        c.conversations += 1
        if conv.first_response_at is not None:
            seconds = _seconds(conv.first_response_at, conv.first_inbound_at)
            c.first_responses += 1
            c.frt_sum_s += seconds
            histogram.add(c.frt_hist, seconds)
        if conv.resolved_at is not None:
            seconds = _seconds(conv.resolved_at, conv.first_inbound_at)
            c.resolutions += 1
            c.resolution_sum_s += seconds
            histogram.add(c.resolution_hist, seconds)

    for sla in slas:
        c = cell(sla.account_id, sla.team_id, sla.language)
        if sla.met:
            c.sla_met += 1
        else:
            c.sla_breached += 1

    for r in social:
        c = cell(r.account_id, None, "")
        for name in SOCIAL:
            setattr(c, name, getattr(c, name) + getattr(r, name))
    return cells


def merge_cells(cells: Iterable[Cell | dict]) -> Cell:
    """The sum of cells (or of rows read back as dicts with the same names). Hot path of every dashboard: plain
    dict arithmetic, one Cell built at the end."""
    sums = dict.fromkeys(COUNTERS, 0)
    hists: dict[str, dict[str, int]] = {name: {} for name in HISTOGRAMS}
    for c in cells:
        values = c if isinstance(c, dict) else c.as_dict()
        for name in COUNTERS:
            sums[name] += values.get(name) or 0
        for name in HISTOGRAMS:
            target = hists[name]
            for key, count in (values.get(name) or {}).items():
                target[key] = target.get(key, 0) + count
    return Cell(**sums, **hists)
