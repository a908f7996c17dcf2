"""Guideline checks: pure functions over a post's texts and the hub's rules, no database.

``run_checks(target, rules)`` returns one :class:`CheckResult` per rule that fired (plus one per network whose
length limit a variant exceeds, always blocking). The service loads the rows, builds the :class:`CheckTarget` and
stores the results; the editor shows them live (HTMX) and the approval screen shows them again.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

from dandelion.connectors.text_limits import URL_RE, measure
from dandelion.publishing.choices import RuleKind, Severity

HASHTAG_RE = re.compile(r"(?<![\w&])#(\w+)", re.UNICODE)
MENTION_RE = re.compile(r"(?<![\w@])@([\w.]+)", re.UNICODE)


@dataclass(frozen=True, slots=True)
class VariantText:
    """What goes to one account: its id, network key (opaque here), label, languages and text."""

    account_id: int
    network: str
    label: str
    text: str
    languages: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class RuleSpec:
    id: int | None
    name: str
    kind: str
    severity: str
    params: dict = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True, slots=True)
class CheckTarget:
    variants: Sequence[VariantText]
    is_sponsored: bool = False
    alt_texts: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class CheckResult:
    rule_id: int | None
    rule: str
    kind: str
    severity: str
    message: str
    account_id: int | None = None
    field: str = "text"

    def as_dict(self) -> dict:
        return asdict(self)


def blocking(results: Iterable[CheckResult | dict]) -> list:
    return [r for r in results if _get(r, "severity") == Severity.BLOCK]


def needs_approval(results: Iterable[CheckResult | dict]) -> bool:
    return any(_get(r, "severity") == Severity.APPROVAL for r in results)


def _get(result, name):
    return result[name] if isinstance(result, dict) else getattr(result, name)


# --- term matching -------------------------------------------------------------------------------------------------

_NO_SPACE_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER", "MYANMAR", "HANGUL")


def _spaceless(term: str) -> bool:
    """Terms in scripts written without spaces between words cannot be matched on word boundaries."""
    return any(unicodedata.name(c, "").startswith(_NO_SPACE_SCRIPTS) for c in term)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


@functools.lru_cache(maxsize=512)
def _term_re(term: str) -> re.Pattern[str]:
    folded = re.escape(_fold(term.strip()))
    if _spaceless(term):
        return re.compile(folded)
    return re.compile(rf"(?<!\w){folded}(?!\w)", re.UNICODE)


def find_terms(text: str, terms: Iterable[str]) -> list[str]:
    """The terms found in ``text`` as whole words (any script, case- and width-insensitive)."""
    folded = _fold(text)
    return [t for t in terms if t and t.strip() and _term_re(t).search(folded)]


def link_domains(text: str) -> list[str]:
    return [(urlsplit(u).hostname or "").lower() for u in URL_RE.findall(text)]


def _domain_allowed(host: str, allowed: Iterable[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in (a.lower().lstrip(".") for a in allowed))


# --- language ------------------------------------------------------------------------------------------------------

MIN_LANGUAGE_CHARS = 25


@functools.lru_cache(maxsize=1)
def _detector():
    try:
        from lingua import IsoCode639_1, LanguageDetectorBuilder
    except ImportError:  # pragma: no cover - lingua is a dependency of understanding
        return None
    codes = ["en", "fr", "es", "de", "it", "pt", "nl", "pl", "ro", "ar", "tr", "ru", "uk", "cs", "sv", "da", "el",
             "hu", "hi", "ja", "zh", "ko", "id", "vi", "th", "fi", "bg", "hr", "sk", "sl"]
    isos = [getattr(IsoCode639_1, c.upper()) for c in codes if hasattr(IsoCode639_1, c.upper())]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*isos).with_low_accuracy_mode().build()


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of ``text``'s language, or None when unsure or too short to tell."""
    clean = HASHTAG_RE.sub(" ", MENTION_RE.sub(" ", URL_RE.sub(" ", text))).strip()
    if len(clean) < MIN_LANGUAGE_CHARS:
        return None
    detector = _detector()
    if detector is None:
        return None
    confidences = detector.compute_language_confidence_values(clean)
    if not confidences or confidences[0].value < 0.5:
        return None
    return confidences[0].language.iso_code_639_1.name.lower()


# --- the checks ----------------------------------------------------------------------------------------------------


def _result(rule: RuleSpec, message: str, account_id: int | None = None, field_name: str = "text") -> CheckResult:
    return CheckResult(rule_id=rule.id, rule=rule.name, kind=rule.kind, severity=rule.severity,
                       message=rule.message or message, account_id=account_id, field=field_name)


def _check_rule(rule: RuleSpec, target: CheckTarget) -> list[CheckResult]:
    out: list[CheckResult] = []
    params = rule.params or {}
    if rule.kind == RuleKind.ALT_TEXT:
        missing = sum(1 for alt in target.alt_texts if not (alt or "").strip())
        if missing:
            out.append(_result(rule, f"{missing} image(s) without alt text.", field_name="media"))
        return out
    if rule.kind == RuleKind.REQUIRED_DISCLOSURE:
        if not target.is_sponsored:
            return out
        terms = params.get("terms") or ["#ad"]
        for v in target.variants:
            if not find_terms(v.text, terms) and not any(t.casefold() in v.text.casefold() for t in terms):
                out.append(_result(rule, f"Sponsored post without a disclosure ({', '.join(terms)}) on {v.label}.",
                                   v.account_id))
        return out
    seen: set[tuple[str, str]] = set()
    same_text = len({v.text for v in target.variants}) <= 1
    for v in target.variants:
        message = ""
        if rule.kind in (RuleKind.BANNED_TERMS, RuleKind.SENSITIVE_TERMS):
            found = find_terms(v.text, params.get("terms") or [])
            if found:
                message = f"Contains {', '.join(repr(t) for t in found)}."
        elif rule.kind == RuleKind.ALLOWED_LINK_DOMAINS:
            bad = [h for h in link_domains(v.text) if not _domain_allowed(h, params.get("domains") or [])]
            if bad:
                message = f"Links to domains not allowed: {', '.join(sorted(set(bad)))}."
        elif rule.kind == RuleKind.MAX_HASHTAGS:
            n, most = len(HASHTAG_RE.findall(v.text)), int(params.get("max", 3))
            if n > most:
                message = f"{n} hashtags; at most {most}."
        elif rule.kind == RuleKind.MAX_MENTIONS:
            n, most = len(MENTION_RE.findall(v.text)), int(params.get("max", 5))
            if n > most:
                message = f"{n} mentions; at most {most}."
        elif rule.kind == RuleKind.LANGUAGE and v.languages:
            lang = detect_language(v.text)
            if lang is not None and lang not in v.languages:
                message = (f"The text looks written in '{lang}'; {v.label} posts in "
                           f"{', '.join(v.languages)}.")
        if message and (message, v.text) not in seen:  # one result per distinct text, not per account
            seen.add((message, v.text))
            out.append(_result(rule, message if same_text else f"{v.label}: {message}",
                               None if same_text else v.account_id))
    return out


def length_results(target: CheckTarget) -> list[CheckResult]:
    """One blocking result per variant too long for its network, naming the network's count and limit."""
    out = []
    for v in target.variants:
        m = measure(v.network, v.text)
        if not m.ok:
            out.append(CheckResult(rule_id=None, rule="length", kind="length", severity=Severity.BLOCK,
                                   message=f"{v.label}: {m.length}/{m.limit} ({m.counting}), {m.over} too many.",
                                   account_id=v.account_id, field=f"variant_{v.account_id}"))
    return out


def run_checks(target: CheckTarget, rules: Iterable[RuleSpec]) -> list[CheckResult]:
    """Every result for ``target``: the length limits first, then each rule in order."""
    results = length_results(target)
    for rule in rules:
        results.extend(_check_rule(rule, target))
    return results
