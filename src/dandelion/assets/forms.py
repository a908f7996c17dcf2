"""Forms of the account registry: they validate input (4xx); services do the work."""

from __future__ import annotations

import json

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from dandelion.assets.choices import SETTABLE_STATUSES, AccountStatus
from dandelion.assets.exceptions import InvalidAccountData
from dandelion.core.permissions import has_perm, scope_q


def units_where(user, perm: str):
    """Active units on which ``user`` holds ``perm`` (a grant covers its subtree)."""
    from dandelion.orgs.models import OrgUnit

    q = scope_q(user, OrgUnit, perm)
    qs = OrgUnit.objects.filter(is_active=True)
    return qs if q is None else qs.filter(q)


def owner_candidates(user):
    """Active people with a role somewhere ``user`` can see (the owner select)."""
    from dandelion.orgs.models import OrgUnit

    User = get_user_model()
    units = OrgUnit.objects.restrict(user, "view")
    return (User.objects.filter(is_active=True, memberships__is_active=True, memberships__unit__in=units)
            .distinct().order_by("username"))


class LanguagesField(forms.CharField):
    """ISO 639-1 codes, separated by spaces, commas or semicolons."""

    def prepare_value(self, value):
        return " ".join(value) if isinstance(value, (list, tuple)) else value

    def clean(self, value):
        from dandelion.assets.services import normalise_languages

        value = super().clean(value)
        try:
            return normalise_languages(value)
        except InvalidAccountData as exc:
            raise forms.ValidationError(exc.message) from exc


def _reply_note(connector) -> str:
    """What the connector's label must say about replies: agents cannot answer on an account that cannot send."""
    if not connector.supports("reply"):
        return " — " + str(_("cannot send replies"))
    if not connector.supports("reply", {}):
        return " — " + str(_("sends replies only once configured"))
    return " — " + str(_("sends replies"))


class AccountForm(forms.Form):
    network = forms.ChoiceField(label=_("Network"))
    handle = forms.CharField(max_length=150, label=_("Handle"))
    external_id = forms.CharField(max_length=150, label=_("External id"), help_text=_("The network's id for the account."))
    display_name = forms.CharField(max_length=200, label=_("Display name"), required=False)
    url = forms.URLField(max_length=500, required=False, assume_scheme="https", label=_("URL"))
    owner_unit = forms.ModelChoiceField(queryset=None, label=_("Owner unit"))
    owner = forms.ModelChoiceField(queryset=None, required=False, help_text=_("The person accountable for it."))
    status = forms.ChoiceField(label=_("Status"), choices=[(s.value, s.label) for s in SETTABLE_STATUSES], initial=AccountStatus.ACTIVE)
    connector = forms.ChoiceField(label=_("Connector"), required=False, help_text=_("Leave empty for the network's default connector."))
    languages = LanguagesField(label=_("Languages"), required=False, help_text=_("ISO 639-1 codes, e.g. “fr en”."))
    country = forms.CharField(max_length=2, label=_("Country"), required=False, help_text=_("ISO 3166-1 alpha-2, e.g. FR."))
    followers = forms.IntegerField(label=_("Followers"), min_value=0, required=False, initial=0)
    connector_config = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False,
                                       label=_("Connector configuration (JSON)"))
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, user, instance=None, **kwargs):
        from dandelion.assets.networks import network_choices
        from dandelion.connectors import registry

        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "network": instance.network, "handle": instance.handle, "external_id": instance.external_id,
                "display_name": instance.display_name, "url": instance.url, "owner_unit": instance.owner_unit_id,
                "owner": instance.owner_id, "status": instance.status, "connector": instance.connector,
                "languages": instance.languages, "country": instance.country, "followers": instance.followers,
                "connector_config": json.dumps(instance.connector_config, indent=2) if instance.connector_config
                else "",
                "notes": instance.notes,
            }
        super().__init__(*args, **kwargs)
        self.fields["network"].choices = network_choices()
        self.fields["connector"].choices = [("", _("Network default"))] + [
            (c.key, c.label + _reply_note(c)) for c in registry.all_connectors()
        ]
        defaults = []
        for spec in registry.networks():
            try:
                defaults.append(f"{spec.label}: {registry.get(spec.default_connector).label}")
            except LookupError:
                continue
        self.fields["connector"].help_text = _(
            "Leave empty for the network's default connector (%(defaults)s). An account keeps the connector it "
            "was registered with.") % {"defaults": "; ".join(defaults)}
        self.fields["owner_unit"].queryset = units_where(user, "assets.add_socialaccount")
        self.fields["owner"].queryset = owner_candidates(user)
        if instance is not None:
            # the unit changes through a transfer; an archived status through archive/restore
            del self.fields["owner_unit"]
            if instance.owner_id and not self.fields["owner"].queryset.filter(pk=instance.owner_id).exists():
                self.fields["owner"].queryset = (self.fields["owner"].queryset
                                                 | get_user_model().objects.filter(pk=instance.owner_id)).distinct()

    def clean_country(self):
        from dandelion.assets.services import normalise_country

        try:
            return normalise_country(self.cleaned_data.get("country"))
        except InvalidAccountData as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean_connector_config(self):
        raw = (self.cleaned_data.get("connector_config") or "").strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("Not valid JSON: %(error)s (line %(line)d).") % {"error": exc.msg, "line": exc.lineno}) from exc
        if not isinstance(value, dict):
            raise forms.ValidationError(_("The connector configuration must be a JSON object."))
        return value

    def clean_followers(self):
        return self.cleaned_data.get("followers") or 0


class TransferForm(forms.Form):
    to_unit = forms.ModelChoiceField(queryset=None, label=_("New owner unit"))
    new_owner = forms.ModelChoiceField(queryset=None, required=False, label=_("New owner"),
                                       help_text=_("Leave empty to keep the current owner."))
    clear_owner = forms.BooleanField(required=False, label=_("Remove the current owner"))
    reason = forms.CharField(max_length=250, label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_unit"].queryset = units_where(user, "assets.change_socialaccount")
        self.fields["new_owner"].queryset = owner_candidates(user)


class ArchiveForm(forms.Form):
    reason = forms.CharField(max_length=250, label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CredentialsForm(forms.Form):
    """Credentials are typed in, never shown back: one ``name = value`` per line (or a JSON object)."""

    credentials = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"}),
        required=False,
        label=_("Credentials"),
        help_text=_("One “name = value” per line, or a JSON object. Replaces every stored credential."),
    )
    expires_at = forms.DateTimeField(required=False, label=_("Expires at"),
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    confirm_clear = forms.BooleanField(
        required=False, label=_("Delete every stored credential"),
        help_text=_("Only with an empty box: the account then cannot reach its network until new credentials are "
                    "saved."))

    def __init__(self, *args, stored: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.stored = stored

    def clean(self):
        data = super().clean()
        if "credentials" in data and not data["credentials"] and self.stored and not data.get("confirm_clear"):
            raise forms.ValidationError(
                ngettext("The box is empty: saving it would delete the %(count)d stored credential. Type the "
                         "credentials, or tick “Delete every stored credential” to confirm.",
                         "The box is empty: saving it would delete the %(count)d stored credentials. Type the "
                         "credentials, or tick “Delete every stored credential” to confirm.", self.stored)
                % {"count": self.stored}, code="confirm_clear")
        return data

    def clean_credentials(self):
        raw = (self.cleaned_data.get("credentials") or "").strip()
        if not raw:
            return {}
        if raw.startswith("{"):
            try:
                value = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise forms.ValidationError(_("Not valid JSON: %(error)s.") % {"error": exc.msg}) from exc  # never echo the value
            if not isinstance(value, dict):
                raise forms.ValidationError(_("Expected a JSON object."))
            return value
        data = {}
        for number, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, value = line.partition("=")
            if not sep or not name.strip():
                raise forms.ValidationError(_("Line %(number)d: expected “name = value”.") % {"number": number})
            data[name.strip()] = value.strip()
        return data


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("UTF-8 CSV with a header row."))

    def clean_file(self):
        file = self.cleaned_data["file"]
        limit = settings.DANDELION_MAX_IMPORT_BYTES
        if file.size > limit:
            raise forms.ValidationError(
                _("The file is too large (%(size)s bytes); the limit is %(limit)s bytes. Split it into parts.")
                % {"size": f"{file.size:,}", "limit": f"{limit:,}"}
            )
        return file


def can_add_anywhere(user) -> bool:
    return has_perm(user, "assets.add_socialaccount")


class ConnectForm(forms.Form):
    """Connect an account through its network's OAuth consent: which network, which instance, which unit."""

    network = forms.ChoiceField(label=_("Network"))
    instance = forms.CharField(max_length=300, label=_("Instance"), required=False,
                               help_text=_("For a federated network (Mastodon): the address of the account's "
                                           "server, e.g. mastodon.social. Leave empty for the other networks."))
    owner_unit = forms.ModelChoiceField(queryset=None, label=_("Owner unit"))

    def __init__(self, *args, user, networks, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["network"].choices = networks
        self.fields["owner_unit"].queryset = units_where(user, "assets.add_socialaccount")
