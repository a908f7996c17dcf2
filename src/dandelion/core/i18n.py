"""Languages, time zones and the apps whose strings are translated.

- ``LANGUAGES`` (settings) lists the interface languages; each person picks one on their profile page, else the
  browser's ``Accept-Language`` decides (Django's ``LocaleMiddleware``).
- :data:`TRANSLATED_APPS` is the registry of apps that carry a ``locale/`` directory with a catalogue for every
  language: ``dandelion messages`` (``make messages``) extracts and compiles them, and the tests check that every
  string they mark has a translation. An app joins by adding its label here and running ``make messages APPS=label``
  (docs/development/translating.md).
- A person's language and time zone are kept in the session at sign-in and when they change them, so a request
  reads no extra row (:class:`dandelion.core.middleware.UserPreferencesMiddleware`).
"""

from __future__ import annotations

import functools
import zoneinfo
from pathlib import Path

from django.conf import settings

#: The apps whose templates and Python strings are translated (``src/dandelion/<label>/locale/``).
TRANSLATED_APPS: tuple[str, ...] = ("core", "orgs", "assets", "sso", "notifications", "webhooks", "routing", "sites",
                                     "crisis", "publishing", "inbox", "listening", "analytics",
                                     "community")

#: Session keys holding the signed-in person's choices ("" means: the browser's language, the server's zone).
SESSION_LANGUAGE = "dandelion_language"
SESSION_TIME_ZONE = "dandelion_time_zone"

#: The options of ``makemessages`` for a translated app (run in the app's directory): ``dandelion messages`` and the
#: catalogue tests extract the same way.
MAKEMESSAGES_OPTIONS = {"domain": "django", "extensions": ["html", "txt", "py"], "no_obsolete": True,
                        "ignore_patterns": ["migrations/*", "locale/*", "static/*"], "add_location": "file"}

SOURCE_LANGUAGE = "en-gb"  # the language the code is written in: it needs no catalogue


def app_dir(label: str) -> Path:
    return Path(settings.SRC_DIR) / label


def locale_dir(label: str) -> Path:
    return app_dir(label) / "locale"


def translation_languages() -> list[str]:
    """The interface languages that need a catalogue (every one but the source language), as locale names."""
    from django.utils.translation import to_locale

    return [to_locale(code) for code, _name in settings.LANGUAGES if code != SOURCE_LANGUAGE]


def language_codes() -> set[str]:
    return {code for code, _name in settings.LANGUAGES}


@functools.cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone name this machine knows (``zoneinfo``), sorted, without the legacy aliases' duplicates."""
    return tuple(sorted(name for name in zoneinfo.available_timezones() if "/" in name or name == "UTC"))


def is_time_zone(name: str) -> bool:
    return name in time_zone_names()


def remember_preferences(session, *, language: str, time_zone: str) -> None:
    """Keep a person's choices in their session (read on every request without a query)."""
    session[SESSION_LANGUAGE] = language if language in language_codes() else ""
    session[SESSION_TIME_ZONE] = time_zone if is_time_zone(time_zone) else ""


def zone(name: str) -> zoneinfo.ZoneInfo:
    """The zone named (a person's or a unit's choice), else the server's ``TIME_ZONE`` (empty or unknown names)."""
    try:
        return zoneinfo.ZoneInfo(name) if name else zoneinfo.ZoneInfo(settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def person_preferences(user) -> tuple[str, zoneinfo.ZoneInfo]:
    """A person's language (else ``LANGUAGE_CODE``) and time zone, for what is written to them outside a request
    (e-mails from jobs)."""
    profile = getattr(user, "profile", None)
    language = getattr(profile, "language", "") or settings.LANGUAGE_CODE
    return language, zone(getattr(profile, "time_zone", "") or "")
