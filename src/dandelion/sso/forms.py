from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dandelion.orgs.choices import Role
from dandelion.orgs.models import OrgUnit, Team
from dandelion.sso.choices import Protocol


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

    protocol = forms.ChoiceField(choices=Protocol.choices, initial=Protocol.OIDC, label=_("Protocol"), required=False,
                                 help_text=_("OpenID Connect where the provider offers it; SAML 2.0 otherwise. It "
                                             "cannot change later."))
    name = forms.CharField(max_length=120, label=_("Name"), help_text=_("Shown on the login page's button."))
    slug = forms.SlugField(max_length=60, label=_("Slug"),
                           help_text=_("It makes the redirect URI (/sso/this-slug/callback/). It cannot change later."))
    issuer = forms.URLField(max_length=300, assume_scheme="https", label=_("Issuer URL"), required=False,
                            help_text=_("OpenID Connect: exactly the 'issuer' of the provider's discovery document. "
                                        "SAML: left empty, it is read from the metadata."))
    client_id = forms.CharField(max_length=255, label=_("Client id"), required=False,
                                help_text=_("OpenID Connect only."))
    client_secret = forms.CharField(max_length=500, label=_("Client secret"), strip=False, required=False,
                                    widget=forms.PasswordInput(render_value=False), help_text=_("OpenID Connect only."))
    saml_metadata_xml = forms.CharField(label=_("SAML metadata (XML)"), required=False, max_length=200_000,
                                        widget=forms.Textarea(attrs={"rows": 6}),
                                        help_text=_("SAML only: the identity provider's metadata document (its "
                                                    "entity id, signing certificate and sign-on address)."))
    scopes = forms.CharField(max_length=255, initial="openid email profile", label=_("Scopes"), required=False,
                             help_text=_("OpenID Connect only."))
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
            del self.fields["slug"], self.fields["bound_unit"], self.fields["protocol"]
            self.fields["client_secret"].help_text = _("Leave empty to keep the current secret.")
            if provider.protocol == Protocol.SAML:
                del self.fields["issuer"], self.fields["client_id"], self.fields["client_secret"]
            else:
                del self.fields["saml_metadata_xml"]

    def clean_protocol(self) -> str:
        return self.cleaned_data.get("protocol") or Protocol.OIDC

    def clean(self):
        data = super().clean() or self.cleaned_data
        protocol = data.get("protocol") or (self.provider.protocol if self.provider else Protocol.OIDC)
        if protocol == Protocol.SAML:
            if not data.get("saml_metadata_xml"):
                self.add_error("saml_metadata_xml", _("Paste the identity provider's SAML metadata."))
        else:
            if "issuer" in self.fields and not data.get("issuer"):
                self.add_error("issuer", _("An OpenID Connect provider needs its issuer URL."))
            if "client_id" in self.fields and not data.get("client_id"):
                self.add_error("client_id", _("An OpenID Connect provider needs a client id."))
            if self.provider is None and not data.get("client_secret"):
                self.add_error("client_secret", _("An OpenID Connect provider needs a client secret."))
            data.pop("saml_metadata_xml", None)
        return data

    def clean_scopes(self) -> str:
        scopes = " ".join(self.cleaned_data["scopes"].split())
        if self.cleaned_data.get("protocol") == Protocol.SAML or (
                self.provider is not None and self.provider.protocol == Protocol.SAML):
            return scopes
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
