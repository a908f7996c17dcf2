"""Endless, deterministic, multilingual demo traffic: what ``make demo`` feeds the inbox on a fresh machine.

``generate_demo(seed)`` yields records forever (slice it with ``itertools.islice``). The same seed and options give
the same stream. The mix, roughly: 45% comments, 20% mentions, 20% DMs, 15% customer replies in existing threads,
plus about 4% brand answers made outside Dandelion (``from_account=True``); intents: questions, complaints, praise,
spam, in nine languages (en fr es ar pl ro nl wo am) with plausible names, handles and countries. Arrivals follow a
Poisson process (mean ``mean_interval_s``) from ``start``.

``raw`` carries ``{"source": "demo", "language", "intent", "seed", "n"}`` so classifiers can be sanity-checked.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from dandelion.connectors.base import EventKind, InboundAuthor, InboundEvent
from dandelion.connectors.replay.demo_corpus import CORPUS, INTENT_WEIGHTS, LANGUAGE_WEIGHTS, SPAM
from dandelion.connectors.replay.records import ReplayRecord

DEFAULT_START = dt.datetime(2025, 1, 6, 8, 0, tzinfo=dt.UTC)
LANGUAGES: tuple[str, ...] = tuple(CORPUS)
NEW_KIND_WEIGHTS: dict[str, int] = {"comment": 45, "mention": 20, "dm": 20}
P_REPLY = 0.15
P_ECHO = 0.04
P_RETURNING_AUTHOR = 0.3


@dataclass(frozen=True, slots=True)
class _Posted:
    event: InboundEvent
    account: str | None
    language: str
    intent: str


def _handle(display: str, explicit: str | None, rng: random.Random) -> str:
    if explicit:
        base = explicit
    else:
        folded = unicodedata.normalize("NFKD", display).encode("ascii", "ignore").decode()
        base = "_".join(folded.lower().split())
    return f"@{base}{rng.randint(1, 99) if rng.random() < 0.5 else ''}"


class _DemoStream:
    def __init__(
        self,
        seed: int,
        accounts: Mapping[str | None, Sequence[str]],
        start: dt.datetime,
        mean_interval_s: float,
        languages: Sequence[str],
    ) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.accounts = accounts
        self.account_handles = list(accounts)
        self.clock = start
        self.mean_interval_s = mean_interval_s
        self.languages = list(languages)
        self.language_weights = [LANGUAGE_WEIGHTS[lang] for lang in self.languages]
        self.authors: dict[str, list[InboundAuthor]] = {lang: [] for lang in self.languages}
        self.recent: deque[_Posted] = deque(maxlen=60)
        self.n = 0

    # --- pieces ----------------------------------------------------------------------------------------------------
    def _fill(self, template: str, name: str = "") -> str:
        return template.format(
            order=self.rng.randint(100000, 999999),
            days=self.rng.randint(2, 12),
            name=name.split()[0] if name else "",
        )

    def _language_for(self, account: str | None) -> str:
        preferred = [lang for lang in self.accounts.get(account, ()) if lang in self.languages]
        if preferred and self.rng.random() < 0.75:
            return self.rng.choice(preferred)
        return self.rng.choices(self.languages, self.language_weights)[0]

    def _author(self, language: str) -> InboundAuthor:
        known = self.authors[language]
        if known and self.rng.random() < P_RETURNING_AUTHOR:
            return self.rng.choice(known)
        display, country, explicit = self.rng.choice(CORPUS[language]["names"])
        followers = min(int(self.rng.lognormvariate(5.0, 1.7)), 2_000_000)
        author = InboundAuthor(
            external_id=f"demo-{self.seed}-u{sum(map(len, self.authors.values())) + 1}",
            name=display,
            handle=_handle(display, explicit, self.rng),
            followers=followers,
            language=language,
            country=country,
        )
        known.append(author)
        return author

    def _event(
        self,
        kind: EventKind,
        text: str,
        author: InboundAuthor,
        language: str,
        intent: str,
        *,
        in_reply_to: str | None = None,
        from_account: bool = False,
    ) -> InboundEvent:
        self.n += 1
        return InboundEvent(
            external_id=f"demo-{self.seed}-{self.n}",
            kind=kind,
            text=text,
            created_at=self.clock,
            author=author,
            in_reply_to=in_reply_to,
            from_account=from_account,
            raw={"source": "demo", "language": language, "intent": intent, "seed": self.seed, "n": self.n},
        )

    # --- the three kinds of step ------------------------------------------------------------------------------------
    def _new_thread(self) -> _Posted:
        account = self.rng.choice(self.account_handles)
        kind: EventKind = self.rng.choices(list(NEW_KIND_WEIGHTS), list(NEW_KIND_WEIGHTS.values()))[0]  # type: ignore[assignment]
        intent = self.rng.choices(list(INTENT_WEIGHTS), list(INTENT_WEIGHTS.values()))[0]
        if intent == "spam":
            pool = [s for s in SPAM if s[0] in self.languages]
            language, text = self.rng.choice(pool or SPAM)
            if not pool:  # spam is mostly English anyway; file it under a language of the stream
                language = self.rng.choice(self.languages)
        else:
            language = self._language_for(account)
            text = self._fill(self.rng.choice(CORPUS[language][intent]))  # type: ignore[literal-required]
        if kind == "mention" and account:
            text = f"{account} {text}"
        author = self._author(language)
        return _Posted(self._event(kind, text, author, language, intent), account, language, intent)

    def _customer_reply(self, parent: _Posted) -> _Posted:
        same_author = parent.event.kind == "dm" or self.rng.random() < 0.6
        author = parent.event.author if same_author else self._author(parent.language)
        text = self._fill(self.rng.choice(CORPUS[parent.language]["followups"]))
        kind: EventKind = "dm" if parent.event.kind == "dm" else "reply"
        event = self._event(
            kind, text, author, parent.language, "other", in_reply_to=parent.event.external_id
        )
        return _Posted(event, parent.account, parent.language, "other")

    def _echo(self, parent: _Posted) -> _Posted:
        handle = parent.account or "@brand"
        brand = InboundAuthor(external_id=f"demo-account-{handle.lstrip('@')}", name=handle, handle=handle)
        text = self._fill(self.rng.choice(CORPUS[parent.language]["echo"]), parent.event.author.name)
        kind: EventKind = "dm" if parent.event.kind == "dm" else "reply"
        event = self._event(
            kind,
            text,
            brand,
            parent.language,
            "other",
            in_reply_to=parent.event.external_id,
            from_account=True,
        )
        return _Posted(event, parent.account, parent.language, "other")

    def __iter__(self) -> Iterator[ReplayRecord]:
        while True:
            delay = 0.0 if self.n == 0 else round(self.rng.expovariate(1.0 / self.mean_interval_s), 3)
            self.clock += dt.timedelta(seconds=delay)
            roll = self.rng.random()
            customers = [p for p in self.recent if not p.event.from_account and p.intent != "spam"]
            if customers and roll < P_ECHO:
                posted = self._echo(self.rng.choice(customers))
            elif customers and roll < P_ECHO + P_REPLY:
                posted = self._customer_reply(self.rng.choice(customers))
            else:
                posted = self._new_thread()
            self.recent.append(posted)
            yield ReplayRecord(event=posted.event, account_handle=posted.account, delay_s=delay)


def generate_demo(
    seed: int = 0,
    *,
    accounts: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    start: dt.datetime = DEFAULT_START,
    mean_interval_s: float = 45.0,
    languages: Sequence[str] | None = None,
) -> Iterator[ReplayRecord]:
    """An endless, deterministic stream of demo records.

    ``accounts``: the '@handles' to spread traffic over, or ``{handle: [language, ...]}`` so that about three in four
    new threads on an account use one of its languages (None: ``account_handle`` is None and the caller assigns).
    ``languages`` restricts the mix (default: all of ``LANGUAGES``).
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if mean_interval_s <= 0:
        raise ValueError("mean_interval_s must be positive")
    chosen = list(languages or LANGUAGES)
    unknown = sorted(set(chosen) - set(CORPUS))
    if unknown:
        raise ValueError(f"no demo corpus for {unknown}; available: {sorted(CORPUS)}")
    if accounts is None:
        account_map: dict[str | None, Sequence[str]] = {None: ()}
    elif isinstance(accounts, Mapping):
        account_map = {handle: tuple(langs) for handle, langs in accounts.items()}
    else:
        account_map = {handle: () for handle in ([accounts] if isinstance(accounts, str) else accounts)}
    if not account_map:
        raise ValueError("accounts must not be empty")
    return iter(_DemoStream(seed, account_map, start, mean_interval_s, chosen))
