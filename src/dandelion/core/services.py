"""Writes to core's own tables: a person's profile (language, time zone)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from dandelion.core import audit, i18n
from dandelion.core.exceptions import DandelionError, PermissionDeniedError
from dandelion.core.models import UserProfile


def update_profile(*, actor, user, language: str, time_zone: str) -> UserProfile:
    """Set ``user``'s interface language (a code of ``settings.LANGUAGES`` or "" for the browser's) and time zone
    (an IANA name or "" for the server's). A person changes only their own profile (a superuser anyone's). One audit
    row with what changed; nothing written when nothing changed."""
    if actor is None or not getattr(actor, "is_authenticated", False) or (
            actor.pk != user.pk and not actor.is_superuser):
        raise PermissionDeniedError(_("You can only change your own profile."))
    if language and language not in i18n.language_codes():
        raise DandelionError(_("Unknown language: %(code)s.") % {"code": language}, field="language")
    if time_zone and not i18n.is_time_zone(time_zone):
        raise DandelionError(_("Unknown time zone: %(name)s.") % {"name": time_zone}, field="time_zone")
    with transaction.atomic():
        profile, _created = UserProfile.objects.select_for_update().get_or_create(user=user)
        before = audit.snapshot(profile, ("language", "time_zone"))
        profile.language, profile.time_zone = language, time_zone
        after = audit.snapshot(profile, ("language", "time_zone"))
        changes = audit.diff(before, after)
        if changes:
            profile.save(update_fields=["language", "time_zone", "updated_at"])
            audit.record(actor=actor, action="core.profile.update", obj=profile,
                         summary=f"{user.get_username()}: language {language or 'browser'}, "
                                 f"time zone {time_zone or 'server default'}",
                         changes=changes)
    return profile
