from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dandelion.orgs.models import OrgUnit
from dandelion.sites.models import SiteTemplate


class SiteCreateForm(forms.Form):
    unit = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("Unit"))
    template = forms.ModelChoiceField(queryset=SiteTemplate.objects.none(), label=_("Template"), to_field_name="name")
    hostname = forms.CharField(max_length=253, label=_("Hostname"), help_text=_("e.g. fr.example.org"))
    site_name = forms.CharField(max_length=255, required=False, label=_("Site name"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = OrgUnit.objects.restrict(user, "view").filter(is_active=True).order_by("path")
        self.fields["template"].queryset = SiteTemplate.objects.filter(is_active=True)
