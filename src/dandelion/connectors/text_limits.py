"""How long a post may be on each network, counted the way that network counts.

A network-neutral table: publishing asks ``measure(network, text)`` and never names a network (habit 6). The
catalogue (``connectors/networks.py``, or a connector plugin for a new network) registers a :class:`TextRule` per
network with :func:`register_text_rule`; a network without a rule gets ``DEFAULT_RULE``.

Counting methods:

* ``chars``: Unicode code points (what most networks document as "characters");
* ``graphemes``: user-perceived characters (extended grapheme clusters, approximated without a third-party
  library: combining marks, ZWJ sequences, variation selectors, skin-tone modifiers and flag pairs join the
  character before them): "👩‍👩‍👧" is one, "é" written as e + U+0301 is one;
* ``weighted``: the weighted count of twitter-text v3: code points in the Latin, general punctuation and similar
  ranges weigh 1, everything else (CJK, emoji...) weighs 2; every URL counts as ``url_length`` whatever its length;
* ``chars`` with ``url_length`` set: code points, every URL counting as a fixed length (a server that shortens
  links).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass

COUNTINGS = ("chars", "graphemes", "weighted")

URL_RE = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class TextRule:
    """A network's length limit: ``max_length`` units counted by ``counting``; URLs count ``url_length`` when set."""

    max_length: int
    counting: str = "chars"
    url_length: int | None = None

    def __post_init__(self) -> None:
        if self.counting not in COUNTINGS:
            raise ValueError(f"counting must be one of {COUNTINGS}, got {self.counting!r}")
        if self.max_length <= 0:
            raise ValueError("max_length must be positive")


@dataclass(frozen=True, slots=True)
class Measure:
    """A text measured for one network: its ``length`` in the network's units against ``limit``."""

    length: int
    limit: int
    counting: str

    @property
    def over(self) -> int:
        return max(0, self.length - self.limit)

    @property
    def ok(self) -> bool:
        return self.length <= self.limit


DEFAULT_RULE = TextRule(max_length=5000, counting="chars")

_lock = threading.RLock()
_rules: dict[str, TextRule] = {}


def register_text_rule(network: str, rule: TextRule) -> TextRule:
    """Declare how ``network`` counts a post's length (a connector plugin for a new network calls this)."""
    with _lock:
        _rules[network] = rule
    return rule


def text_rule(network: str) -> TextRule:
    """The rule registered for ``network`` (``DEFAULT_RULE`` when none is). The catalogue (``networks.py``)
    registers the known networks' rules when the plugins load."""
    from dandelion.connectors.registry import load_plugins

    load_plugins()
    return _rules.get(network, DEFAULT_RULE)


# --- counting ------------------------------------------------------------------------------------------------------

_ZWJ = "\u200d"


def _joins_previous(ch: str) -> bool:
    cp = ord(ch)
    if unicodedata.category(ch) in ("Mn", "Me", "Mc"):
        return True
    return (
        0xFE00 <= cp <= 0xFE0F  # variation selectors
        or 0x1F3FB <= cp <= 0x1F3FF  # skin-tone modifiers
        or 0xE0020 <= cp <= 0xE007F  # tag characters (subdivision flags)
        or cp == 0x200C
    )


def _is_regional_indicator(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def grapheme_count(text: str) -> int:
    """The number of user-perceived characters (an approximation of UAX #29 extended grapheme clusters)."""
    count = 0
    prev = ""
    after_zwj = False
    ri_run = 0
    for ch in text:
        if prev and (after_zwj or ch == _ZWJ or _joins_previous(ch)):
            after_zwj = ch == _ZWJ
            prev = ch
            continue
        if prev == "\r" and ch == "\n":
            prev = ch
            continue
        if _is_regional_indicator(ch):
            ri_run += 1
            if ri_run % 2 == 0:  # the second of a pair joins the first: one flag
                prev = ch
                continue
        else:
            ri_run = 0
        count += 1
        after_zwj = False
        prev = ch
    return count


_WEIGHT_ONE = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


def _weight(ch: str) -> int:
    cp = ord(ch)
    return 1 if any(lo <= cp <= hi for lo, hi in _WEIGHT_ONE) else 2


def weighted_count(text: str, url_length: int = 23) -> int:
    """twitter-text v3 weighting: light ranges weigh 1, others 2, each URL ``url_length``; NFC first."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    pos = 0
    for match in URL_RE.finditer(text):
        total += sum(_weight(c) for c in text[pos:match.start()]) + url_length
        pos = match.end()
    total += sum(_weight(c) for c in text[pos:])
    return total


def count(text: str, rule: TextRule) -> int:
    """``text``'s length under ``rule``."""
    text = text or ""
    if rule.counting == "weighted":
        return weighted_count(text, rule.url_length or 23)
    if rule.url_length is not None:
        urls = URL_RE.findall(text)
        stripped = URL_RE.sub("", text)
        base = grapheme_count(stripped) if rule.counting == "graphemes" else len(stripped)
        return base + rule.url_length * len(urls)
    return grapheme_count(text) if rule.counting == "graphemes" else len(text)


def measure(network: str, text: str) -> Measure:
    """``text`` measured as ``network`` counts it, with the network's limit."""
    rule = text_rule(network)
    return Measure(length=count(text, rule), limit=rule.max_length, counting=rule.counting)


__all__ = ["DEFAULT_RULE", "Measure", "TextRule", "count", "grapheme_count", "measure", "register_text_rule",
           "text_rule", "weighted_count"]
