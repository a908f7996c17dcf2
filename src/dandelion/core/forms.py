"""Forms of core's own pages: a person's profile."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from dandelion.core import i18n


def _language_choices():
    return [("", _("The browser's language")), *settings.LANGUAGES]


def _time_zone_choices():
    return [("", _("The server's time zone (%(zone)s)") % {"zone": settings.TIME_ZONE}),
            *((name, name) for name in i18n.time_zone_names())]


class ProfileForm(forms.Form):
    """Language and time zone: both picked from lists, so only known codes and IANA zone names pass."""

    language = forms.ChoiceField(label=_("Language"), choices=_language_choices, required=False)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=_time_zone_choices, required=False,
                                  help_text=_("Dates and times are shown in this zone."))
