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
