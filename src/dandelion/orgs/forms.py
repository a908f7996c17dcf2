"""Forms: they validate input (4xx with clear messages); the views pass ``cleaned_data`` to the services."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dandelion.orgs.choices import Role, TeamKind, UnitKind
from dandelion.orgs.models import OrgUnit, Team
from dandelion.orgs.validators import parse_languages, validate_languages, validate_timezone


class LanguagesField(forms.CharField):
    """Comma-separated ISO 639-1 codes, cleaned to a list."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "ISO 639-1 codes, comma-separated (fr, en).")
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, (list, tuple)):
            return ", ".join(value)
        return value

    def to_python(self, value):
        return parse_languages(super().to_python(value))

    def validate(self, value):
        super().validate(value)
        validate_languages(value)


class UnitForm(forms.Form):
    name = forms.CharField(max_length=120)
    slug = forms.SlugField(max_length=80, required=False, help_text=_("Leave empty to derive it from the name."))
    kind = forms.ChoiceField(choices=UnitKind.choices, initial=UnitKind.COUNTRY)
    country = forms.CharField(max_length=2, required=False, help_text=_("ISO 3166-1 alpha-2, for country units."))
    languages = LanguagesField()
    timezone = forms.CharField(max_length=64, initial="UTC", validators=[validate_timezone])

    def clean_country(self):
        value = self.cleaned_data["country"].strip().upper()
        if value and (len(value) != 2 or not value.isalpha()):
            raise forms.ValidationError(_("Use a two-letter ISO country code (FR, ES)."))
        return value


class MoveUnitForm(forms.Form):
    parent = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("New parent"))

    def __init__(self, *args, user, unit: OrgUnit, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = (
            OrgUnit.objects.restrict(user, "orgs.add_orgunit")
            .filter(is_active=True)
            .exclude(path__startswith=unit.path)
            .exclude(pk=unit.parent_id)
        )
        self.fields["parent"].label_from_instance = lambda u: f"{'— ' * u.depth}{u.name}"


class TeamForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=TeamKind.choices)
    languages = LanguagesField(help_text=_("Languages the team answers in: ISO 639-1 codes, comma-separated."))
    timezone = forms.CharField(max_length=64, required=False, validators=[validate_timezone],
                               help_text=_("Empty: the unit's time zone."))
    email = forms.EmailField(required=False)


def _team_field(unit: OrgUnit) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=Team.objects.filter(unit__path__startswith=unit.path, is_active=True).select_related("unit"),
        required=False,
        help_text=_("Required for external moderators: they see only what is routed to their team."),
    )


def _role_field() -> forms.ChoiceField:
    """The role to grant: nothing chosen until the person granting it chooses (never "Hub admin" by default)."""
    return forms.ChoiceField(choices=[("", "— choose a role —"), *Role.choices])


class MembershipForm(forms.Form):
    """Grant a role on a unit to an existing person."""

    person = forms.CharField(max_length=150, help_text=_("Username or e-mail of an existing person."))
    role = _role_field()
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False)
    is_available = forms.BooleanField(required=False, initial=True, label=_("Available for assignment"))
    capacity = forms.IntegerField(min_value=0, max_value=500, initial=10)

    def __init__(self, *args, unit: OrgUnit, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit = unit
        self.fields["team"] = _team_field(unit)

    def clean_person(self):
        value = self.cleaned_data["person"].strip()
        users = get_user_model().objects.filter(Q(username__iexact=value) | Q(email__iexact=value), is_active=True)
        user = users.first() if users.count() == 1 else None
        if user is None:
            raise forms.ValidationError(_("No single active person with that username or e-mail; invite them instead."))
        return user

    def clean(self):
        data = super().clean()
        if data.get("role") == Role.EXTERNAL_MODERATOR and not data.get("team"):
            self.add_error("team", "An external moderator must belong to a team.")
        return data


class MembershipEditForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False)
    is_available = forms.BooleanField(required=False, label=_("Available for assignment"))
    capacity = forms.IntegerField(min_value=0, max_value=500)

    def __init__(self, *args, unit: OrgUnit, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"] = _team_field(unit)

    def clean(self):
        data = super().clean()
        if data.get("role") == Role.EXTERNAL_MODERATOR and not data.get("team"):
            self.add_error("team", "An external moderator must belong to a team.")
        return data


class InviteForm(forms.Form):
    """Create an account for a new person and grant them a role."""

    username = forms.RegexField(regex=r"^[\w.@+-]+$", max_length=150,
                                error_messages={"invalid": "Letters, digits and @ . + - _ only."})
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField()
    role = _role_field()
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False)

    def __init__(self, *args, unit: OrgUnit, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"] = _team_field(unit)

    def clean(self):
        data = super().clean()
        if data.get("role") == Role.EXTERNAL_MODERATOR and not data.get("team"):
            self.add_error("team", "An external moderator must belong to a team.")
        return data


class GuidelineForm(forms.Form):
    title = forms.CharField(max_length=200)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 20}), help_text=_("Markdown."))
    change_summary = forms.CharField(max_length=300, required=False, help_text=_("What changed since last version."))


class PasswordResetRequestForm(PasswordResetForm):
    """Ask for a reset link by username or e-mail. The answer never tells whether an account matched."""

    email = None  # replaced by ``login``
    login = forms.CharField(label=_("Username or e-mail"), max_length=254,
                            widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}))

    field_order = ("login",)

    def clean_login(self):
        return self.cleaned_data["login"].strip()

    def get_users(self, login):
        """Active people with a usable password whose username or e-mail is ``login`` and who have an e-mail.
        (Invited people who have not arrived yet get a new invitation from their admin instead.)"""
        User = get_user_model()
        users = User._default_manager.filter(
            Q(**{f"{User.USERNAME_FIELD}__iexact": login}) | Q(**{f"{User.get_email_field_name()}__iexact": login}),
            is_active=True,
        ).exclude(**{User.get_email_field_name(): ""})
        return (u for u in users if u.has_usable_password())

    def save(self, **kwargs):
        # PasswordResetForm.save() reads cleaned_data["email"] to find the users.
        self.cleaned_data["email"] = self.cleaned_data["login"]
        return super().save(**kwargs)
