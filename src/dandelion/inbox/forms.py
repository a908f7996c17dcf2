"""Forms of the inbox UI: they validate input (4xx); services do the work."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dandelion.inbox.choices import Priority
from dandelion.inbox.models import CannedResponse
from dandelion.inbox.services import MODERATION_ACTIONS

User = get_user_model()


class ReplyForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "placeholder": gettext_lazy("Write a reply…")}), max_length=10_000)
    canned_response = forms.ModelChoiceField(queryset=CannedResponse.objects.none(), required=False)
    seen_message_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    confirm_collision = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, canned_qs=None, **kwargs):
        super().__init__(*args, **kwargs)
        if canned_qs is not None:
            self.fields["canned_response"].queryset = canned_qs


class NoteForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2, "placeholder": gettext_lazy("Internal note (never sent)…")}),
                           max_length=10_000)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label=gettext_lazy("— nobody —"))

    def __init__(self, *args, users=None, **kwargs):
        super().__init__(*args, **kwargs)
        if users is not None:
            self.fields["assignee"].queryset = users


class TakeForm(forms.Form):
    reason = forms.CharField(required=False, max_length=300)


class HandoverForm(forms.Form):
    to_team = forms.ModelChoiceField(queryset=None, required=False, empty_label=gettext_lazy("— same team —"))
    to_user = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label=gettext_lazy("— team queue —"))
    reason = forms.CharField(max_length=500, widget=forms.TextInput(attrs={"placeholder": gettext_lazy("Why? (required)")}))

    def __init__(self, *args, teams=None, users=None, **kwargs):
        super().__init__(*args, **kwargs)
        from dandelion.orgs.models import Team

        self.fields["to_team"].queryset = teams if teams is not None else Team.objects.none()
        if users is not None:
            self.fields["to_user"].queryset = users

    def clean(self):
        data = super().clean()
        if not data.get("to_team") and not data.get("to_user"):
            raise forms.ValidationError(_("Choose a team or a person to hand over to."))
        return data


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(choices=Priority.choices)


class TagForm(forms.Form):
    add = forms.CharField(required=False, max_length=2000, help_text=gettext_lazy("Comma-separated"))
    remove = forms.CharField(required=False, max_length=2000)

    def clean_add(self):
        from dandelion.inbox.services import TAG_MAX_LENGTH

        value = self.cleaned_data.get("add") or ""
        for name in self.split(value):
            if len(name) > TAG_MAX_LENGTH:
                raise forms.ValidationError(
                    _("Tag “%(tag)s…” is %(length)d characters long: a tag has at most %(max)d. Shorten it; no tag "
                      "was saved.") % {"tag": name[:40], "length": len(name), "max": TAG_MAX_LENGTH})
        return value

    @staticmethod
    def split(value: str) -> list[str]:
        return [v.strip() for v in (value or "").split(",") if v.strip()]


class ResolveForm(forms.Form):
    no_reply_needed = forms.BooleanField(required=False)
    confirm_unsent_reply = forms.BooleanField(required=False)


class ModerateForm(forms.Form):
    message = forms.IntegerField()
    action = forms.ChoiceField(choices=[(a, a.replace("_", " ")) for a in MODERATION_ACTIONS])
    reason = forms.CharField(max_length=1000, required=False)


class CannedResponseForm(forms.ModelForm):
    """Translations are edited as lines ``fr: Bonjour {contact_name} …``."""

    translations_text = forms.CharField(
        label=gettext_lazy("Translations"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("One per line: <code>fr: Bonjour {contact_name}, …</code>. Placeholders: {contact_name}, "
                               "{agent_name}, {account_name}, {team_name}."),
    )

    class Meta:
        model = CannedResponse
        fields = ["unit", "title", "shortcut", "language", "body"]
        labels = {"unit": gettext_lazy("Unit"), "title": gettext_lazy("Title"), "shortcut": gettext_lazy("Shortcut"),
                  "language": gettext_lazy("Language"), "body": gettext_lazy("Body")}
        help_texts = {"body": gettext_lazy("Default text (the unit's main language).")}

    def __init__(self, *args, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        if units is not None:
            self.fields["unit"].queryset = units
        if self.instance and self.instance.pk:
            self.fields["translations_text"].initial = "\n".join(
                f"{k}: {v}" for k, v in sorted((self.instance.translations or {}).items()))

    def clean_translations_text(self):
        out = {}
        for number, line in enumerate((self.cleaned_data.get("translations_text") or "").splitlines(), start=1):
            if not line.strip():
                continue
            lang, sep, text = line.partition(":")
            lang = lang.strip().lower()
            if not sep or not lang or not text.strip() or len(lang) > 8:
                raise forms.ValidationError(_("Line %(number)d: write 'xx: text'.") % {"number": number})
            out[lang] = text.strip()
        return out

    def service_fields(self) -> dict:
        data = {k: self.cleaned_data[k] for k in ("title", "shortcut", "language", "body")}
        data["translations"] = self.cleaned_data["translations_text"]
        return data


class MetricsForm(forms.Form):
    # the browser's date input reads and writes ISO dates (YYYY-MM-DD), whatever the display locale
    since = forms.DateField(required=False, label=gettext_lazy("Since"),
                            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                            input_formats=["%Y-%m-%d"])
    until = forms.DateField(required=False, label=gettext_lazy("Until"),
                            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                            input_formats=["%Y-%m-%d"])

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end date is before the start date."))
        return data
    group_by = forms.ChoiceField(choices=[("team", gettext_lazy("Team")), ("unit", gettext_lazy("Unit")),
                                          ("language", gettext_lazy("Language")), ("account", gettext_lazy("Account"))],
                                 required=False, label=gettext_lazy("Group by"))


def _role_choices():
    from dandelion.orgs.choices import Role

    return [(value, label) for value, label in Role.choices]


class ApprovalPolicyForm(forms.Form):
    """A unit's reply approval policy: whose replies (roles) or which conversations (tags) wait, and who approves."""

    unit = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Unit"))
    author_roles = forms.MultipleChoiceField(
        choices=_role_choices, required=False, widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Replies by these roles need approval"))
    tags = forms.CharField(required=False, max_length=2000, label=gettext_lazy("Conversations tagged"),
                           help_text=gettext_lazy("Comma-separated, e.g. legal, press, vip"))
    approver_roles = forms.MultipleChoiceField(
        choices=_role_choices, required=False, widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Approved by"),
        help_text=gettext_lazy("None ticked: hub admins, spoke admins, community managers and PR managers."))
    is_active = forms.BooleanField(required=False, label=gettext_lazy("Policy active"))

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
