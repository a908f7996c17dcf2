"""Forms for the rule editor: JSON conditions/actions with whitelist validation errors listing their path."""

from __future__ import annotations

import json

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from dandelion.core.permissions import has_perm
from dandelion.orgs.models import OrgUnit
from dandelion.routing.conditions import validate_rule

CONDITIONS_EXAMPLE = '{"all": [{"field": "language", "op": "in", "value": ["fr"]}]}'
ACTIONS_EXAMPLE = '{"route_to_team": 1, "set_priority": "high", "add_tags": ["vip"]}'


class JSONTextField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "mono"})

    def to_python(self, value):
        value = super().to_python(value)
        if not value or not value.strip():
            return {}
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("Not valid JSON: %(error)s (line %(line)d, column %(column)d).")
                                        % {"error": exc.msg, "line": exc.lineno, "column": exc.colno})

    def prepare_value(self, value):
        if isinstance(value, (dict, list)):
            return json.dumps(value, indent=2, ensure_ascii=False)
        return value


def manageable_units(user):
    """Units where ``user`` may add routing rules (hub and spoke admins, on their subtree)."""
    return [u for u in OrgUnit.objects.restrict(user, "view").filter(is_active=True)
            if has_perm(user, "routing.add_routingrule", u)]


_example = lazy(lambda text, example: str(text) % {"example": example}, str)


class RoutingRuleForm(forms.Form):
    unit = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("Unit"),
                                  help_text=_("The rule applies to accounts owned by this unit and its subtree."))
    name = forms.CharField(max_length=120, label=_("Name"))
    conditions = JSONTextField(required=False, label=_("Conditions"), help_text=_example(
        _("Empty matches everything. Example: %(example)s"), CONDITIONS_EXAMPLE))
    actions = JSONTextField(required=False, label=_("Actions"), help_text=_example(_("Example: %(example)s"),
                                                                                  ACTIONS_EXAMPLE))
    stop_processing = forms.BooleanField(required=False, label=_("Stop processing"),
                                         help_text=_("When it matches, evaluate no later rule."))
    is_active = forms.BooleanField(required=False, initial=True, label=_("Active"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["unit"].queryset = OrgUnit.objects.filter(pk__in=[u.pk for u in manageable_units(user)])
        self.rule_errors: list[dict[str, str]] = []

    def clean(self):
        data = super().clean()
        if "conditions" in data and "actions" in data:
            self.rule_errors = validate_rule(data["conditions"], data["actions"], actor=self.user,
                                             unit=data.get("unit"))
            for error in self.rule_errors:
                field = error["path"].split(".")[0].split("[")[0]
                self.add_error(field if field in ("conditions", "actions") else None,
                               f"{error['path']}: {error['message']}")
        return data
