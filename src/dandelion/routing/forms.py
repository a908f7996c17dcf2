"""Forms for the rule editor: JSON conditions/actions with whitelist validation errors listing their path."""

from __future__ import annotations

import json

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from dandelion.core.permissions import has_perm
from dandelion.inbox.choices import Intent, Priority, Sentiment
from dandelion.orgs.models import OrgUnit
from dandelion.routing.conditions import COUNTRY_RE, TAG_RE, validate_rule

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


def _language_choices():
    """Two-letter languages by their name (Django's list), sorted by name."""
    from django.conf.locale import LANG_INFO

    seen = {code: info["name"] for code, info in LANG_INFO.items() if "name" in info and len(code) == 2}
    return sorted(seen.items(), key=lambda item: item[1])


def _network_choices():
    from dandelion.connectors.registry import networks

    return [(spec.key, spec.label) for spec in networks()]


def _country_choices(user=None):
    """The countries in use (org units, accounts, contacts), by code; labelled with the name of a unit of that
    country only where ``user`` may see that unit (a label must not tell other units' names)."""
    from dandelion.assets.models import SocialAccount
    from dandelion.inbox.models import Contact

    units = OrgUnit.objects.exclude(country="")
    codes = set(units.values_list("country", flat=True))
    visible = units.restrict(user, "view") if user is not None else units.none()
    names = dict(visible.order_by("-path").values_list("country", "name"))
    codes |= set(SocialAccount.objects.exclude(country="").values_list("country", flat=True)[:500])
    codes |= set(Contact.objects.exclude(country="").values_list("country", flat=True).distinct()[:300])
    codes = {c.upper() for c in codes if COUNTRY_RE.match(c.upper())}
    return [(c, f"{c} ({names[c]})" if c in names else c) for c in sorted(codes)]


def _tag_choices():
    """The tags conversations carry (by name)."""
    from dandelion.inbox.models import Tag

    return [(name, name) for name in Tag.objects.order_by("name").values_list("name", flat=True)[:500]
            if TAG_RE.match(name)]


#: The builder's condition fields: the rule field each one writes, its operator and whether it holds ids.
BUILDER_CONDITIONS = (("b_languages", "language", "in", False), ("b_countries", "country", "in", False),
                      ("b_networks", "network", "in", False), ("b_accounts", "account", "in", True),
                      ("b_tags", "tags", "any", False), ("b_keywords", "keywords", "any", False),
                      ("b_intents", "intent", "in", False), ("b_sentiments", "sentiment", "in", False))
BUILDER_ACTIONS = ("route_to_team", "set_priority")
KEYWORDS_MAX = 50


def split_keywords(text: str) -> list[str]:
    """Keywords typed one a line or separated by commas, trimmed, duplicates dropped."""
    parts = [p.strip() for line in (text or "").splitlines() for p in line.split(",")]
    return list(dict.fromkeys(p for p in parts if p))


def to_builder(conditions: dict, actions: dict) -> dict | None:
    """The builder's fields for a stored rule, or None when the rule says more than the builder can show (then the
    JSON editor opens): conditions are one ``all`` of the builder's conditions (``in``; ``any`` for tags and
    keywords), actions a team and a priority."""
    items = conditions.get("all") if set(conditions) == {"all"} else ([conditions] if conditions else [])
    if not isinstance(items, list) or set(actions) - set(BUILDER_ACTIONS):
        return None
    by_field = {rule_field: (name, op) for name, rule_field, op, _ in BUILDER_CONDITIONS}
    out: dict = {"b_team": actions.get("route_to_team"), "b_priority": actions.get("set_priority", "")}
    for item in items:
        if not isinstance(item, dict) or item.get("field") not in by_field:
            return None
        name, op = by_field[item["field"]]
        if item.get("op") != op or name in out:
            return None
        value = item.get("value") or []
        out[name] = "\n".join(value) if name == "b_keywords" else value
    return out


class RoutingRuleForm(forms.Form):
    mode = forms.ChoiceField(choices=[("builder", _("Rule builder")), ("json", _("JSON"))], required=False,
                             widget=forms.RadioSelect, label=_("Edit with"))
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
    # the rule builder: every condition picked must hold (languages by name, teams by name); empty matches all
    b_languages = forms.MultipleChoiceField(choices=_language_choices, required=False, label=_("Language is one of"))
    b_countries = forms.MultipleChoiceField(choices=_country_choices, required=False,
                                            label=_("Contact country is one of"),
                                            help_text=_("The author's country, else the account's."))
    b_networks = forms.MultipleChoiceField(choices=_network_choices, required=False, label=_("Network is one of"))
    b_accounts = forms.ModelMultipleChoiceField(queryset=None, required=False, label=_("Account is one of"))
    b_tags = forms.MultipleChoiceField(choices=_tag_choices, required=False,
                                       label=_("Conversation has any of these tags"))
    b_keywords = forms.CharField(required=False, max_length=3000, label=_("Message contains any of these words"),
                                 widget=forms.Textarea(attrs={"rows": 3}),
                                 help_text=_("One word or phrase a line (or separated by commas); whole words, any "
                                             "language, case-insensitive."))
    b_intents = forms.MultipleChoiceField(choices=Intent.choices, required=False,
                                          label=_("Classified intent is one of"))
    b_sentiments = forms.MultipleChoiceField(choices=Sentiment.choices, required=False,
                                             label=_("Classified sentiment is one of"))
    b_team = forms.ModelChoiceField(queryset=None, required=False, label=_("Then route to team"))
    b_priority = forms.ChoiceField(choices=[("", _("— keep —"))] + list(Priority.choices), required=False,
                                   label=_("Then set priority"))

    #: what the service takes (the builder's fields only compose conditions and actions)
    SERVICE_FIELDS = ("unit", "name", "conditions", "actions", "stop_processing", "is_active")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        from dandelion.assets.models import SocialAccount
        from dandelion.orgs.models import Team

        self.user = user
        self.fields["unit"].queryset = OrgUnit.objects.filter(pk__in=[u.pk for u in manageable_units(user)])
        self.fields["b_countries"].choices = _country_choices(user)  # type: ignore[attr-defined]
        self.fields["b_accounts"].queryset = SocialAccount.objects.restrict(user, "view").order_by("handle")
        self.fields["b_team"].queryset = Team.objects.restrict(user, "view").filter(is_active=True).select_related(
            "unit").order_by("name")
        self.fields["b_team"].label_from_instance = lambda team: f"{team.name} ({team.unit.name})"
        self.rule_errors: list[dict[str, str]] = []

    def service_data(self) -> dict:
        return {k: self.cleaned_data[k] for k in self.SERVICE_FIELDS if k in self.cleaned_data}

    def _compose(self, data: dict) -> None:
        """Builder mode: the conditions and actions come from the builder's fields (the JSON boxes, hidden in
        this mode, are ignored, their errors too)."""
        for name in ("conditions", "actions"):
            self._errors.pop(name, None)
        items = []
        for name, rule_field, op, ids in BUILDER_CONDITIONS:
            values = data.get(name) or []
            if name == "b_keywords":
                values = split_keywords(values)
                if len(values) > KEYWORDS_MAX or any(len(v) > 100 for v in values):
                    self.add_error(name, _("At most %(count)d words or phrases of at most 100 characters.")
                                   % {"count": KEYWORDS_MAX})
                    values = []
            if values:
                items.append({"field": rule_field, "op": op,
                              "value": sorted(v.pk for v in values) if ids else list(values)})
        actions: dict = {}
        if data.get("b_team"):
            actions["route_to_team"] = data["b_team"].pk
        if data.get("b_priority"):
            actions["set_priority"] = data["b_priority"]
        if not actions:
            self.add_error("b_team", _("Pick a team or a priority: a rule without an action does nothing."))
        data["conditions"] = {"all": items} if items else {}
        data["actions"] = actions

    def clean(self):
        data = super().clean()
        if data.get("mode") == "builder":
            self._compose(data)
        if "conditions" in data and "actions" in data:
            self.rule_errors = validate_rule(data["conditions"], data["actions"], actor=self.user,
                                             unit=data.get("unit"))
            builder = data.get("mode") == "builder"
            for error in self.rule_errors:
                field = error["path"].split(".")[0].split("[")[0]
                if builder:  # the builder's fields are what the person sees: say it there
                    field = {"actions": "b_team"}.get(field)
                self.add_error(field if field in ("conditions", "actions", "b_team") else None,
                               f"{error['path']}: {error['message']}")
        return data


class DurationField(forms.CharField):
    """A duration typed as people say it (45m, 2h 30m, 1d 4h), stored in seconds."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _("e.g. 45m, 2h 30m, 1d 4h; empty: no target"))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        from dandelion.routing.durations import format_duration

        return format_duration(value) if isinstance(value, int) else value

    def to_python(self, value):
        from dandelion.routing.durations import parse_duration

        value = super().to_python(value)
        if len(value) > 40:
            raise forms.ValidationError(_("Write a duration like 45m, 2h 30m or 1d 4h."))
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


def _timezone_choices():
    from zoneinfo import available_timezones

    return [("", _("— keep the current hours —"))] + [(z, z) for z in sorted(available_timezones())
                                                        if "/" in z and not z.startswith(("Etc/", "SystemV/"))] + [
        ("UTC", "UTC")]


class DayRangesField(forms.CharField):
    """One day's opening hours typed as ``09:00-12:00, 14:00-18:00`` (empty: closed), stored as pairs."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault("help_text", _("e.g. 09:00-12:00, 14:00-18:00; empty: closed"))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        from dandelion.routing.durations import format_day_ranges

        return format_day_ranges(value) if isinstance(value, list) else value

    def to_python(self, value):
        from dandelion.routing.durations import parse_day_ranges

        value = super().to_python(value)
        try:
            return parse_day_ranges(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class SlaPolicyForm(forms.Form):
    """An SLA policy with human durations; the escalation's priority from a list."""

    team = forms.ModelChoiceField(queryset=None, label=_("Team"))
    priority = forms.ChoiceField(choices=[("", _("any priority"))] + list(Priority.choices), required=False,
                                 label=_("Priority"))
    first_response_seconds = DurationField(label=_("First response within"))
    next_response_seconds = DurationField(label=_("Next response within"))
    resolution_seconds = DurationField(label=_("Resolved within"))
    business_hours = forms.BooleanField(required=False, label=_("Count business hours only"))
    escalate_priority = forms.ChoiceField(choices=[("", _("— no change —"))] + list(Priority.choices),
                                          required=False, label=_("When a target is missed, set priority"))
    is_active = forms.BooleanField(required=False, initial=True, label=_("Active"))
    # the team's business hours (its own calendar, shared by the team's policies); empty: left as they are
    hours_timezone = forms.ChoiceField(choices=_timezone_choices, required=False, label=_("Business hours time zone"),
                                       help_text=_("The team's opening hours, used by every policy of the team that "
                                                   "counts business hours. Leave empty to keep them as they are."))
    hours_mon = DayRangesField(label=_("Monday"))
    hours_tue = DayRangesField(label=_("Tuesday"))
    hours_wed = DayRangesField(label=_("Wednesday"))
    hours_thu = DayRangesField(label=_("Thursday"))
    hours_fri = DayRangesField(label=_("Friday"))
    hours_sat = DayRangesField(label=_("Saturday"))
    hours_sun = DayRangesField(label=_("Sunday"))

    HOURS_FIELDS = tuple(f"hours_{day}" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["team"].label_from_instance = lambda team: f"{team.name} ({team.unit.name})"

    def clean(self):
        data = super().clean()
        if not any(data.get(k) for k in ("first_response_seconds", "next_response_seconds", "resolution_seconds")):
            raise forms.ValidationError(_("Set at least one target (first response, next response or resolution)."))
        if not data.get("hours_timezone") and any(data.get(k) for k in self.HOURS_FIELDS):
            self.add_error("hours_timezone", _("Pick the time zone of these opening hours."))
        elif data.get("hours_timezone") and not any(data.get(k) for k in self.HOURS_FIELDS):
            self.add_error("hours_mon", _("Give at least one day of opening hours."))
        return data

    def business_hours_data(self) -> dict | None:
        """``{"timezone_name", "weekly_hours"}`` when the hours were filled in, else None (left as they are)."""
        if not self.cleaned_data.get("hours_timezone"):
            return None
        return {"timezone_name": self.cleaned_data["hours_timezone"],
                "weekly_hours": {name[len("hours_"):]: self.cleaned_data.get(name) or []
                                 for name in self.HOURS_FIELDS}}

    def service_data(self, escalation: dict | None = None) -> dict:
        data = {k: self.cleaned_data[k] for k in ("team", "priority", "first_response_seconds",
                                                   "next_response_seconds", "resolution_seconds", "business_hours",
                                                   "is_active")}
        escalation = dict(escalation or {})
        escalation.pop("set_priority", None)
        if self.cleaned_data.get("escalate_priority"):
            escalation["set_priority"] = self.cleaned_data["escalate_priority"]
        data["escalation"] = escalation
        return data
