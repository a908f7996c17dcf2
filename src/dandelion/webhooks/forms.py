"""Forms of the outgoing webhooks: they validate input (4xx); services do the work."""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from dandelion.core.permissions import scope_q
from dandelion.webhooks import delivery
from dandelion.webhooks.choices import DeliveryStatus
from dandelion.webhooks.exceptions import WebhookError


def units_where(user, perm: str):
    """Active units on which ``user`` holds ``perm`` (a grant covers its subtree)."""
    from dandelion.orgs.models import OrgUnit

    q = scope_q(user, OrgUnit, perm)
    qs = OrgUnit.objects.filter(is_active=True).order_by("path")
    return qs if q is None else qs.filter(q)


def type_choices() -> list[tuple[str, str]]:
    from dandelion.webhooks.services import subscribable_types

    return [(t.name, f"{t.label} ({t.name})") for t in subscribable_types().values()]


class SubscriptionForm(forms.Form):
    unit: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None, label=_("Unit"),
                                  help_text=_("Events of this unit and every unit below it are sent."))
    name = forms.CharField(max_length=120, label=_("Name"))
    url = forms.CharField(max_length=500, label=_("Receiver URL"),
                          help_text=_("An http(s) address; Dandelion POSTs signed JSON to it."))
    event_types = forms.MultipleChoiceField(choices=(), widget=forms.CheckboxSelectMultiple,
                                            label=_("Event types"))

    def __init__(self, *args, user, subscription=None, **kwargs):
        from dandelion.webhooks.services import PERM_MANAGE

        if subscription is not None:
            kwargs.setdefault("initial", {"name": subscription.name, "url": subscription.url,
                                          "event_types": subscription.event_types})
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["event_types"]).choices = type_choices()
        if subscription is not None:
            del self.fields["unit"]  # the unit does not change: delete and create instead
        else:
            cast(forms.ModelChoiceField, self.fields["unit"]).queryset = units_where(user, PERM_MANAGE)

    def clean_url(self):
        try:
            return delivery.check_url(self.cleaned_data["url"])
        except WebhookError as exc:
            raise forms.ValidationError(exc.message) from exc


class DisableForm(forms.Form):
    reason = forms.CharField(max_length=300, required=False, label=_("Reason"))


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", _("Any status")), *DeliveryStatus.choices], required=False,
                               label=_("Status"))
    event_type = forms.ChoiceField(choices=(), required=False, label=_("Event type"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from dandelion.core.events import event_types

        cast(forms.ChoiceField, self.fields["event_type"]).choices = [("", _("Any type")), *((n, n) for n in event_types())]
