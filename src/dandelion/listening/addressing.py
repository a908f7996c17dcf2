"""Is a mention addressed to the brand, and does it need a reply?

The understanding step's ``needs_reply`` is tuned on messages sent *to* a brand's account (recall first: every
customer who writes to the brand gets an answer), so it flags almost every public post that talks *about* the brand
("acme is down again" reads as a complaint waiting for an answer). Listening tells the two apart before asking it:

* **addressed** to the brand: an inbound message of one of the organisation's accounts (a DM, a comment or reply on
  its posts, an @-mention: it reached the account), a direct message, or a post that @-mentions one of the
  organisation's account handles (``@acme_fr``, ``@acme.bsky.social``);
* **public**: any other post found by a keyword match (feeds, searches, replays).

A public mention never needs a reply by default (``needs_reply=False``). An addressed one needs what the understanding
step says: the inbox's own verdict for an inbound message, else the analyzer's, run on the addressed items only (if
the analyzer cannot run, an addressed mention needs a reply: recall first, like the inbox).

The probe set in ``tests/listening/test_addressing.py`` measures the difference (figures in ``docs/listening.md``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence

logger = logging.getLogger(__name__)

#: an @-mention as networks write them: ``@acme``, ``@acme_fr``, ``@acme.bsky.social``, ``@acme@mastodon.social``
_AT_RE = re.compile(r"(?<![\w@])@([\w][\w.\-]*(?:@[\w.\-]+)?)", re.UNICODE)


def _norm(handle: str) -> str:
    return handle.strip().lstrip("@").rstrip(".").casefold()


def own_handles() -> frozenset[str]:
    """The handles of the organisation's live accounts, normalised (Mastodon's ``user@instance`` also as ``user``
    only when written so by the account)."""
    from dandelion.assets.models import SocialAccount

    out = set()
    for handle in SocialAccount.objects.live().values_list("handle", flat=True):
        h = _norm(handle or "")
        if h:
            out.add(h)
    return frozenset(out)


def mentioned_handles(text: str) -> set[str]:
    """The handles @-mentioned in ``text``, normalised (a trailing dot of a sentence dropped)."""
    return {_norm(m) for m in _AT_RE.findall(text or "")}


def is_addressed(text: str, *, source: str, kind: str = "", handles: Iterable[str] = ()) -> bool:
    """True when the mention was written *to* the brand (see the module docstring), False for a public mention."""
    if source == "inbound" or kind == "dm":
        return True
    handles = handles if isinstance(handles, (set, frozenset)) else set(handles)
    return bool(handles) and not mentioned_handles(text).isdisjoint(handles)


def needs_reply(
    texts: Sequence[str],
    addressed: Sequence[bool],
    known: Sequence[bool | None] = (),
    language_hints: Sequence[str | None] | None = None,
) -> list[bool]:
    """``needs_reply`` of each item: False when public; ``known[i]`` when given (the inbox's verdict); else the
    analyzer's verdict for the addressed ones (one batch)."""
    known = list(known) or [None] * len(texts)
    out: list[bool] = [False] * len(texts)
    ask: list[int] = []
    for i, is_to_us in enumerate(addressed):
        if not is_to_us:
            continue
        if known[i] is not None:
            out[i] = bool(known[i])
        else:
            ask.append(i)
    if ask:
        try:
            from dandelion.understanding.analyzer import get_analyzer

            hints = None if language_hints is None else [language_hints[i] for i in ask]
            verdicts = get_analyzer().analyze([texts[i] for i in ask], language_hints=hints)
            for i, u in zip(ask, verdicts, strict=True):
                out[i] = bool(u.needs_reply)
        except Exception:  # noqa: BLE001 - no analyzer (not trained, not installed): recall first
            logger.warning(
                "listening: the analyzer did not answer; addressed mentions are marked as needing a reply"
            )
            for i in ask:
                out[i] = True
    return out
