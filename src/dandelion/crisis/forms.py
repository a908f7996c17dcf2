from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from dandelion.core.permissions import has_perm
from dandelion.crisis.choices import IncidentKind, IncidentStatus, LogKind, PlaybookKind, ResponderRole
from dandelion.orgs.models import OrgUnit


class IncidentForm(forms.Form):
    unit = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("Unit concerned (and below)"))
    title = forms.CharField(max_length=200, label=_("Title"))
    severity = forms.IntegerField(min_value=1, max_value=10, initial=5, label=_("Severity (1–10)"))
    kind = forms.ChoiceField(choices=IncidentKind.choices, initial=IncidentKind.GENERAL, required=False,
                             label=_("Kind of crisis"))
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000,
                              label=_("What we know"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        units = OrgUnit.objects.restrict(user, "view").order_by("path")
        self.fields["unit"].queryset = units.filter(pk__in=[u.pk for u in units
                                                            if has_perm(user, "crisis.add_incident", u)])

    def clean_kind(self):
        return self.cleaned_data.get("kind") or IncidentKind.GENERAL


class LogForm(forms.Form):
    kind = forms.ChoiceField(choices=[(LogKind.NOTE, LogKind.NOTE.label), (LogKind.ACTION, LogKind.ACTION.label),
                                      (LogKind.DECISION, LogKind.DECISION.label)], label=_("Kind"))
    text = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), label=_("Log line"))


class JoinForm(forms.Form):
    role = forms.ChoiceField(choices=[c for c in ResponderRole.choices if c[0] != ResponderRole.OWNER],
                             label=_("Role"))


class OwnerForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=get_user_model().objects.none(), label=_("PR owner"))

    def __init__(self, *args, incident=None, **kwargs):
        super().__init__(*args, **kwargs)
        from dandelion.orgs.models import Membership

        if incident is not None:
            parts = [p for p in incident.unit.path.split("/") if p]
            prefixes = ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]
            ids = Membership.objects.filter(unit__path__in=prefixes, is_active=True,
                                            role__in=("pr_manager", "hub_admin", "spoke_admin")
                                            ).values_list("user_id", flat=True)
            self.fields["owner"].queryset = get_user_model().objects.filter(pk__in=ids, is_active=True
                                                                            ).order_by("username")


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=[c for c in IncidentStatus.choices if c[0] != IncidentStatus.CLOSED])


class SeverityForm(forms.Form):
    severity = forms.IntegerField(min_value=1, max_value=10, label=_("Severity"))
    reason = forms.CharField(max_length=500, required=False, label=_("Why"))


class PauseForm(forms.Form):
    reason = forms.CharField(max_length=400, required=False, label=_("Reason"))


class StatementForm(forms.Form):
    holding_statement = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 4}),
                                        label=_("Holding statement (draft)"))


class StatementTranslationForm(forms.Form):
    prefix = "translation"  # its fields share the room's page with the log's "text"
    language = forms.CharField(max_length=12, label=_("Language"),
                               widget=forms.TextInput(attrs={"size": 5, "placeholder": "fr"}),
                               help_text=_("A language code: fr, es, pt-br."))
    text = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           label=_("The statement in this language"),
                           help_text=_("Leave empty to remove this language."))


class CloseForm(forms.Form):
    summary = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 5}),
                              label=_("What happened"))


class PlaybookForm(forms.Form):
    unit = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("Applies to (and below)"))
    name = forms.CharField(max_length=120, label=_("Name"))
    kind = forms.ChoiceField(choices=PlaybookKind.choices, label=_("Kind of crisis"))
    min_severity = forms.IntegerField(min_value=1, max_value=10, initial=1, label=_("From severity"))
    steps = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), max_length=20000, label=_("Steps"),
                            help_text=_("One step a line: role | minutes after opening | what to do. Roles: owner, "
                                        "comms, legal, spoke_lead, responder."))
    holding_statement = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000,
                                        label=_("Holding statement to start from"))
    is_active = forms.BooleanField(required=False, initial=True, label=_("Active"))

    def __init__(self, *args, user=None, perm="crisis.add_playbook", **kwargs):
        super().__init__(*args, **kwargs)
        units = OrgUnit.objects.restrict(user, "view").order_by("path")
        self.fields["unit"].queryset = units.filter(pk__in=[u.pk for u in units if has_perm(user, perm, u)])

    def clean_steps(self):
        from dandelion.crisis.exceptions import CrisisError
        from dandelion.crisis.playbooks import steps_from_text

        try:
            return steps_from_text(self.cleaned_data["steps"])
        except CrisisError as exc:
            raise forms.ValidationError(str(exc)) from None


class ApplyPlaybookForm(forms.Form):
    kind = forms.ChoiceField(choices=IncidentKind.choices, label=_("Kind of crisis"))


class TickForm(forms.Form):
    done = forms.BooleanField(required=False)


class StakeholderForm(forms.Form):
    recipients = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}),
                                 label=_("Recipients"), help_text=_("E-mail addresses, separated by commas."))
    include_responders = forms.BooleanField(required=False, initial=True, label=_("Also the people on the incident"))
    subject = forms.CharField(max_length=200, label=_("Subject"))
    body = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 4}), label=_("Update"))
