from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dandelion.orgs.choices import Role
from dandelion.orgs.models import OrgUnit, Team


class ClaimRuleForm(forms.Form):
    """A claim rule of one provider: the units offered are those of its bound subtree (the service checks again)."""

    claim = forms.CharField(max_length=60, initial="groups", label=_("Claim"))
    value = forms.CharField(max_length=255, label=_("Value"))
    unit = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("Unit"))
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, label=_("Team"))
    role = forms.ChoiceField(choices=Role.choices, label=_("Role"))

    def __init__(self, *args, provider, **kwargs):
        super().__init__(*args, **kwargs)
        # any unit may be picked: one outside the provider's subtree is refused with a clear error by the service
        self.fields["unit"].queryset = OrgUnit.objects.filter(is_active=True)  # type: ignore[attr-defined]
        self.fields["team"].queryset = (  # type: ignore[attr-defined]
            Team.objects.filter(is_active=True).select_related("unit"))
        self.provider = provider


class ClaimRuleEditForm(ClaimRuleForm):
    """Editing a rule: the same fields, plus whether it applies."""

    is_active = forms.BooleanField(required=False, initial=True, label=_("Active"),
                                   help_text=_("An inactive rule grants nothing at sign-in."))


class ProviderForm(forms.Form):
    """An identity provider. On creation: its slug and bound unit too (neither changes afterwards: make a new
    provider). The client secret is write-only: left empty when editing, the current one is kept."""

    name = forms.CharField(max_length=120, label=_("Name"), help_text=_("Shown on the login page's button."))
    slug = forms.SlugField(max_length=60, label=_("Slug"),
                           help_text=_("It makes the redirect URI (/sso/this-slug/callback/). It cannot change later."))
    issuer = forms.URLField(max_length=300, assume_scheme="https", label=_("Issuer URL"),
                            help_text=_("Exactly the 'issuer' of the provider's discovery document."))
    client_id = forms.CharField(max_length=255, label=_("Client id"))
    client_secret = forms.CharField(max_length=500, label=_("Client secret"), strip=False,
                                    widget=forms.PasswordInput(render_value=False))
    scopes = forms.CharField(max_length=255, initial="openid email profile", label=_("Scopes"))
    username_claim = forms.CharField(max_length=60, initial="preferred_username", label=_("User name claim"),
                                     help_text=_("The claim giving the person's user name (falls back to 'email')."))
    bound_unit = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("Bound to"),
                                        help_text=_("Its people may only get roles on this unit and its sub-units. "
                                                    "It cannot change later."))
    is_active = forms.BooleanField(required=False, initial=True, label=_("Active"),
                                   help_text=_("An inactive provider has no button and refuses every sign-in."))
    local_passwords_off = forms.BooleanField(
        required=False, label=_("Local passwords off for its people"),
        help_text=_("People linked to this provider cannot sign in with a local password."))

    def __init__(self, *args, provider=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.provider = provider
        self.fields["bound_unit"].queryset = OrgUnit.objects.filter(is_active=True)  # type: ignore[attr-defined]
        if provider is not None:
            del self.fields["slug"], self.fields["bound_unit"]
            self.fields["client_secret"].required = False
            self.fields["client_secret"].help_text = _("Leave empty to keep the current secret.")

    def clean_scopes(self) -> str:
        scopes = " ".join(self.cleaned_data["scopes"].split())
        if "openid" not in scopes.split():
            raise forms.ValidationError(_("The scopes must include 'openid'."))
        return scopes


class LocalPasswordsForm(forms.Form):
    """Switch local passwords off (or on again) for a unit and its sub-units."""

    unit = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("Unit"))
    allowed = forms.TypedChoiceField(coerce=lambda v: v == "1", choices=(("0", _("Switch off")), ("1", _("Allow"))),
                                     label=_("Local passwords"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = OrgUnit.objects.filter(is_active=True)  # type: ignore[attr-defined]
