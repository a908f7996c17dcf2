"""Input validation shared by forms and serializers (the edge): time zones and language codes."""

from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

LANGUAGE_CODE_RE = re.compile(r"^[a-z]{2,3}$")


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def validate_timezone(value: str) -> None:
    if value and value not in _timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone (e.g. Europe/Paris, UTC).") % {"value": value})


def validate_languages(values) -> None:
    if not isinstance(values, (list, tuple)):
        raise ValidationError(_("Languages must be a list of ISO 639-1 codes."))
    bad = [v for v in values if not isinstance(v, str) or not LANGUAGE_CODE_RE.match(v)]
    if bad:
        raise ValidationError(_("Not ISO 639 language codes: %(codes)s.") % {"codes": ", ".join(map(str, bad))})


def parse_languages(text: str) -> list[str]:
    """``"fr, EN ;de"`` → ``["fr", "en", "de"]`` (order kept, duplicates dropped)."""
    seen: list[str] = []
    for part in re.split(r"[\s,;]+", text or ""):
        code = part.strip().lower()
        if code and code not in seen:
            seen.append(code)
    return seen
