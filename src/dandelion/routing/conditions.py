"""The whitelist of rule conditions and actions: validation (errors with a path), evaluation and description.

Conditions are a tree of combinators and leaves::

    {"all": [                                   # or "any"; nest freely; {} matches everything
        {"field": "language", "op": "in", "value": ["fr"]},
        {"any": [{"field": "intent", "op": "in", "value": ["complaint"]},
                 {"field": "keywords", "op": "any", "value": ["remboursement", "arnaque"]}]}
    ]}

Actions are one object, every key optional::

    {"route_to_team": 12, "set_priority": "high", "add_tags": ["vip"], "hide": true,
     "escalate_to_pr": true, "auto_acknowledge": 7}
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from dandelion.inbox.choices import Intent, MessageKind, Priority, Sentiment

COMBINATORS = ("all", "any")
MAX_DEPTH = 5
LANG_RE = re.compile(r"^[a-z]{2,3}$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
TAG_RE = re.compile(r"^[\w][\w\- ]{0,59}$", re.UNICODE)


# --- value checkers: return an error message or None ------------------------------------------------------------
def _str_list(pattern: re.Pattern | None = None, choices: tuple[str, ...] | None = None, hint: str = ""):
    def check(value: Any) -> str | None:
        if not isinstance(value, list) or not value:
            return "must be a non-empty list"
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                return f"item {i} must be a non-empty string"
            if pattern is not None and not pattern.match(item):
                return f"item {i} {item!r} is not {hint}"
            if choices is not None and item not in choices:
                return f"item {i} {item!r} is not one of {', '.join(choices)}"
        return None

    return check


def _id_list(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return "must be a non-empty list of ids"
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
        return "every item must be a positive integer id"
    return None


def _positive_id(value: Any) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return "must be a positive integer id"
    return None


def _non_negative_int(value: Any) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return "must be an integer ≥ 0"
    return None


def _score(value: Any) -> str | None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
        return "must be a number between 0 and 1"
    return None


def _bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


@dataclass(frozen=True)
class FieldSpec:
    label: str
    ops: tuple[str, ...]
    check: Callable[[Any], str | None]
    help: str


FIELDS: dict[str, FieldSpec] = {
    "language": FieldSpec("language", ("in", "not_in"), _str_list(LANG_RE, hint="an ISO 639-1 code like 'fr'"),
                          "detected message language, ISO 639-1 codes"),
    "country": FieldSpec("country", ("in", "not_in"), _str_list(COUNTRY_RE, hint="an ISO 3166 code like 'FR'"),
                         "author country (else the account's), ISO 3166-1 alpha-2"),
    "account": FieldSpec("account", ("in", "not_in"), _id_list, "social account ids"),
    "unit": FieldSpec("unit", ("within", "not_within"), _positive_id, "org unit id: the account's unit is in its subtree"),
    "network": FieldSpec("network", ("in", "not_in"), _str_list(), "network keys, e.g. facebook"),
    "kind": FieldSpec("kind", ("in", "not_in"), _str_list(choices=tuple(MessageKind.values)), "message kind"),
    "intent": FieldSpec("intent", ("in", "not_in"), _str_list(choices=tuple(Intent.values)), "detected intent"),
    "sentiment": FieldSpec("sentiment", ("in", "not_in"), _str_list(choices=tuple(Sentiment.values)),
                           "detected sentiment"),
    "tags": FieldSpec("tags", ("any", "none"), _str_list(TAG_RE, hint="a tag name"),
                      "the conversation carries any (none) of these tags, case-insensitive"),
    "keywords": FieldSpec("keywords", ("any", "all", "none"), _str_list(),
                          "words or phrases, case-insensitive, whole words"),
    "author_followers": FieldSpec("author reach", ("gte",), _non_negative_int, "author followers ≥ N"),
    "vip": FieldSpec("VIP", ("is",), _bool, "the contact is a VIP"),
    "spam": FieldSpec("spam", ("gte",), _score, "spam score ≥ x (0..1)"),
    "abuse": FieldSpec("abuse", ("gte",), _score, "abuse score ≥ x (0..1)"),
}

ACTIONS: dict[str, tuple[Callable[[Any], str | None], str]] = {
    "route_to_team": (_positive_id, "team id (a team you may see)"),
    "set_priority": (lambda v: None if v in Priority.values else f"must be one of {', '.join(Priority.values)}",
                     "low / normal / high / urgent"),
    "add_tags": (_str_list(TAG_RE, hint="a tag name (letters, digits, - and spaces, ≤ 60)"), "tag names"),
    "hide": (_bool, "hide the message on the network"),
    "escalate_to_pr": (_bool, "escalate to PR"),
    "auto_acknowledge": (_positive_id, "canned response id sent as an acknowledgement"),
}


# --- validation -------------------------------------------------------------------------------------------------
def validate_conditions(conditions: Any, path: str = "conditions", depth: int = 0) -> list[dict[str, str]]:
    """Errors (``{"path", "message"}``) in a conditions tree; an empty list when valid."""
    errors: list[dict[str, str]] = []

    def err(p: str, m: str) -> None:
        errors.append({"path": p, "message": m})

    if not isinstance(conditions, dict):
        err(path, "must be an object")
        return errors
    if depth > MAX_DEPTH:
        err(path, f"nested deeper than {MAX_DEPTH} levels")
        return errors
    if not conditions and depth == 0:
        return errors  # matches everything
    combinators = [k for k in conditions if k in COMBINATORS]
    if combinators:
        if len(conditions) != 1:
            err(path, "a combinator object must have exactly one key, 'all' or 'any'")
            return errors
        key = combinators[0]
        items = conditions[key]
        if not isinstance(items, list):
            err(f"{path}.{key}", "must be a list of conditions")
            return errors
        for i, item in enumerate(items):
            errors += validate_conditions(item, f"{path}.{key}[{i}]", depth + 1)
        return errors
    unknown = sorted(set(conditions) - {"field", "op", "value"})
    if unknown:
        err(path, f"unknown key(s) {', '.join(map(repr, unknown))}; expected 'all', 'any' or field/op/value")
        return errors
    field = conditions.get("field")
    if field not in FIELDS:
        err(f"{path}.field", f"unknown field {field!r}; expected one of {', '.join(FIELDS)}")
        return errors
    spec = FIELDS[field]
    op = conditions.get("op")
    if op not in spec.ops:
        err(f"{path}.op", f"operator {op!r} is not allowed for {field}; expected one of {', '.join(spec.ops)}")
    if "value" not in conditions:
        err(f"{path}.value", "is required")
    else:
        message = spec.check(conditions["value"])
        if message:
            err(f"{path}.value", message)
    return errors


def validate_actions(actions: Any, path: str = "actions") -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    if not isinstance(actions, dict):
        return [{"path": path, "message": "must be an object"}]
    for key, value in actions.items():
        if key not in ACTIONS:
            errors.append({"path": f"{path}.{key}",
                           "message": f"unknown action {key!r}; expected one of {', '.join(ACTIONS)}"})
            continue
        message = ACTIONS[key][0](value)
        if message:
            errors.append({"path": f"{path}.{key}", "message": message})
    return errors


def validate_rule(conditions: Any, actions: Any, *, actor=None, unit=None) -> list[dict[str, str]]:
    """Shape errors, then references: the team must be one the author may see, the canned response too, and the
    unit in a ``unit`` condition must exist."""
    errors = validate_conditions(conditions)
    action_errors = validate_actions(actions)
    errors += action_errors
    if action_errors:
        return errors
    from dandelion.inbox.models import CannedResponse
    from dandelion.orgs.models import Team

    team_id = actions.get("route_to_team")
    if team_id is not None:
        teams = Team.objects.filter(is_active=True)
        if actor is not None:
            teams = teams.restrict(actor, "view")
        if not teams.filter(pk=team_id).exists():
            errors.append({"path": "actions.route_to_team",
                           "message": f"team {team_id} does not exist, is inactive, or is not visible to you"})
    canned_id = actions.get("auto_acknowledge")
    if canned_id is not None:
        canned = CannedResponse.objects.all()
        if actor is not None:
            canned = canned.restrict(actor, "view")
        if not canned.filter(pk=canned_id).exists():
            errors.append({"path": "actions.auto_acknowledge",
                           "message": f"canned response {canned_id} does not exist or is not visible to you"})
    return errors


# --- evaluation -------------------------------------------------------------------------------------------------
def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").casefold()


_NO_SPACE_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER", "MYANMAR", "HANGUL", "TIBETAN")


def _needs_boundaries(keyword: str) -> bool:
    """Scripts written without spaces between words match as substrings; others on word boundaries."""
    for ch in keyword:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            if any(name.startswith(s) for s in _NO_SPACE_SCRIPTS):
                return False
    return True


@lru_cache(maxsize=2048)
def keyword_pattern(keyword: str) -> re.Pattern:
    kw = normalize(keyword).strip()
    body = r"\s+".join(re.escape(part) for part in kw.split())
    if _needs_boundaries(kw):
        body = rf"(?<!\w){body}(?!\w)"
    return re.compile(body)


@lru_cache(maxsize=2048)
def any_keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern:
    """One pattern matching where any of ``keywords`` matches (one scan of the text instead of one per keyword)."""
    return re.compile("|".join(f"(?:{keyword_pattern(k).pattern})" for k in keywords))


@lru_cache(maxsize=256)
def _normalized(text: str) -> str:  # the conditions of one message's rules normalise its text once
    return normalize(text)


def keyword_hits(text: str, keywords: list[str]) -> list[str]:
    norm = _normalized(text or "")
    return [k for k in keywords if keyword_pattern(k).search(norm)]


def any_keyword(text: str, keywords: list[str]) -> bool:
    return bool(keywords) and any_keyword_pattern(tuple(keywords)).search(_normalized(text or "")) is not None


def evaluate(conditions: dict, ctx) -> bool:
    """Does ``ctx`` (a RoutingContext) satisfy the conditions tree? Assumes the tree is valid."""
    if not conditions:
        return True
    if "all" in conditions:
        return all(evaluate(c, ctx) for c in conditions["all"])
    if "any" in conditions:
        return any(evaluate(c, ctx) for c in conditions["any"])
    field, op, value = conditions["field"], conditions["op"], conditions["value"]
    if field == "keywords":
        if op == "all":
            return len(keyword_hits(ctx.text, value)) == len(value)
        found = any_keyword(ctx.text, value)
        return found if op == "any" else not found
    if field == "tags":
        carried = bool(ctx.tags & {t.lower() for t in value})
        return carried if op == "any" else not carried
    if field == "unit":
        from dandelion.orgs.models import OrgUnit

        path = OrgUnit.objects.filter(pk=value).values_list("path", flat=True).first()
        inside = bool(path) and ctx.unit_path.startswith(path)
        return inside if op == "within" else not inside
    if op == "gte":
        actual = {"author_followers": ctx.author_followers, "spam": ctx.spam, "abuse": ctx.abuse}[field]
        return (actual or 0) >= value
    if op == "is":
        return bool(ctx.is_vip) is value
    actual = {"language": ctx.language, "country": ctx.country, "account": ctx.account_id, "network": ctx.network,
              "kind": ctx.kind, "intent": ctx.intent, "sentiment": ctx.sentiment}[field]
    if field == "language" and actual:
        actual = actual.lower()
    if field == "country" and actual:
        actual = actual.upper()
    return (actual in value) if op == "in" else (actual not in value)


# --- description ------------------------------------------------------------------------------------------------
_OP_TEXT = {"in": "is", "not_in": "is not", "within": "under unit", "not_within": "not under unit",
            "any": "contains any of", "all": "contains all of", "none": "contains none of", "gte": "≥", "is": "is"}


def describe_conditions(conditions: dict) -> str:
    if not conditions:
        return "always"
    for key, joiner in (("all", " and "), ("any", " or ")):
        if key in conditions:
            parts = [describe_conditions(c) for c in conditions[key]]
            if not parts:
                return "always" if key == "all" else "never"
            text = joiner.join(parts)
            return f"({text})" if len(parts) > 1 and key == "any" else text
    field, op, value = conditions.get("field"), conditions.get("op"), conditions.get("value")
    label = FIELDS[field].label if field in FIELDS else field
    if isinstance(value, list):
        shown = ", ".join(str(v) for v in value)
    elif isinstance(value, bool):
        shown = "yes" if value else "no"
    else:
        shown = str(value)
    return f"{label} {_OP_TEXT.get(op, op)} {shown}"


def describe_actions(actions: dict, team_names: dict[int, str] | None = None) -> str:
    team_names = team_names or {}
    parts = []
    if "route_to_team" in actions:
        parts.append(f"route to {team_names.get(actions['route_to_team'], 'team #{}'.format(actions['route_to_team']))}")
    if "set_priority" in actions:
        parts.append(f"priority {actions['set_priority']}")
    if actions.get("add_tags"):
        parts.append("tag " + ", ".join(actions["add_tags"]))
    if actions.get("hide"):
        parts.append("hide")
    if actions.get("escalate_to_pr"):
        parts.append("escalate to PR")
    if "auto_acknowledge" in actions:
        parts.append(f"acknowledge with canned response #{actions['auto_acknowledge']}")
    return ", ".join(parts) or "no action"
