"""Forms of the publishing UI: they validate the input's shape; the services apply the rules."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dandelion.assets.models import SocialAccount
from dandelion.core.permissions import has_perm
from dandelion.orgs.models import OrgUnit
from dandelion.publishing import services

DATETIME_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class WallClockField(forms.DateTimeField):
    """A date and time as typed, with no time zone: the service reads it in the accounts' zone (so it can tell a
    time that the clocks skip)."""

    def to_python(self, value):
        result = super().to_python(value)
        if result is not None and timezone.is_aware(result):
            result = timezone.make_naive(result)
        return result


def units_allowing(user, perm: str):
    return [u for u in OrgUnit.objects.restrict(user, "view").filter(is_active=True).order_by("path")
            if has_perm(user, perm, u)]


class AccountChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: SocialAccount) -> str:
        return f"{obj.network_label} {obj.handle} ({obj.owner_unit.name})"


class PostForm(forms.Form):
    unit = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("Unit"))
    accounts = AccountChoiceField(queryset=SocialAccount.objects.none(), widget=forms.CheckboxSelectMultiple,
                                  label=_("Accounts"))
    title = forms.CharField(max_length=200, required=False, label=_("Internal title"))
    text = forms.CharField(max_length=20000, widget=forms.Textarea(attrs={"rows": 6}), label=_("Text"))
    is_sponsored = forms.BooleanField(required=False, label=_("Sponsored (needs its disclosure)"))
    scheduled_local = WallClockField(required=False, widget=DATETIME_LOCAL, label=_("Publish at"),
                                          input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                          help_text=_("In the accounts' time zone. Empty: when approved."))

    def __init__(self, *args, user, post=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.post = post
        units = units_allowing(user, services.PERM_ADD if post is None else services.PERM_CHANGE)
        self.fields["unit"].queryset = OrgUnit.objects.filter(pk__in=[u.pk for u in units])
        if len(units) == 1 and not self.is_bound:
            self.fields["unit"].initial = units[0].pk
        self.fields["accounts"].queryset = (SocialAccount.objects.restrict(user, "view").live()
                                            .select_related("owner_unit").order_by("owner_unit__path", "handle"))
        if post is not None:
            del self.fields["unit"]
            for variant in post.variants.select_related("account"):
                name = f"variant_{variant.account_id}"
                self.fields[name] = forms.CharField(
                    max_length=20000, required=False, widget=forms.Textarea(attrs={"rows": 3}),
                    label=_("Text for %(account)s (empty: the main text)") % {
                        "account": f"{variant.account.network_label} {variant.account.handle}"},
                    initial=variant.text)

    def variant_texts(self) -> dict[int, str]:
        return {int(name.split("_", 1)[1]): value or "" for name, value in self.cleaned_data.items()
                if name.startswith("variant_")}

    def variant_fields(self):
        return [self[name] for name in self.fields if name.startswith("variant_")]


class CommentForm(forms.Form):
    comment = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2}),
                              label=_("Comment"))


class ScheduleForm(forms.Form):
    scheduled_local = WallClockField(required=False, widget=DATETIME_LOCAL, label=_("Publish at"),
                                          input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                          help_text=_("Empty: now."))


class PauseForm(forms.Form):
    unit = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("Pause every scheduled post of"))
    reason = forms.CharField(max_length=500, label=_("Reason"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = OrgUnit.objects.filter(
            pk__in=[u.pk for u in units_allowing(user, services.PERM_PAUSE)])


class CampaignForm(forms.Form):
    unit = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("Run by"))
    name = forms.CharField(max_length=200, label=_("Name"))
    brief = forms.CharField(max_length=10000, required=False, widget=forms.Textarea(attrs={"rows": 4}),
                            label=_("Brief for the spokes"))
    master_text = forms.CharField(max_length=20000, widget=forms.Textarea(attrs={"rows": 4}),
                                  label=_("Master post"), help_text=_("Each spoke localises it."))
    is_sponsored = forms.BooleanField(required=False, label=_("Sponsored (needs its disclosure)"))
    starts_local = WallClockField(widget=DATETIME_LOCAL, label=_("Starts"),
                                  input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                  help_text=_("In the time zone of the unit running it."))
    ends_local = WallClockField(widget=DATETIME_LOCAL, label=_("Ends"),
                                input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    spokes = forms.ModelMultipleChoiceField(queryset=OrgUnit.objects.none(), widget=forms.CheckboxSelectMultiple,
                                            label=_("Spokes"))

    def __init__(self, *args, user, **kwargs):
        from dandelion.publishing import campaigns

        super().__init__(*args, **kwargs)
        units = units_allowing(user, campaigns.PERM_ADD_CAMPAIGN)
        self.fields["unit"].queryset = OrgUnit.objects.filter(pk__in=[u.pk for u in units])
        if units and not self.is_bound:
            self.fields["unit"].initial = units[0].pk
        self.fields["spokes"].queryset = OrgUnit.objects.restrict(user, "view").filter(
            is_active=True, parent__isnull=False).order_by("path")


class LocaliseForm(forms.Form):
    accounts = AccountChoiceField(queryset=SocialAccount.objects.none(), widget=forms.CheckboxSelectMultiple,
                                  label=_("Accounts"))
    text = forms.CharField(max_length=20000, widget=forms.Textarea(attrs={"rows": 6}), label=_("Text"),
                           help_text=_("The master post, in your words and language."))
    scheduled_local = WallClockField(required=False, widget=DATETIME_LOCAL, label=_("Publish at"),
                                     input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                     help_text=_("Within the campaign's window, in the accounts' time zone."))

    def __init__(self, *args, user, assignment, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["accounts"].queryset = services.postable_accounts(user, assignment.unit).order_by(
            "owner_unit__path", "handle")
        if not self.is_bound:
            self.fields["text"].initial = assignment.campaign.master_text


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False, label=_("Reason"))


class ImportForm(forms.Form):
    unit = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("Unit"))
    file = forms.FileField(label=_("CSV file"), help_text=_(
        "Columns: accounts, text, scheduled_local (YYYY-MM-DD HH:MM), title, is_sponsored. UTF-8."))
    submit = forms.BooleanField(required=False, initial=True, label=_("Submit each post (checks and workflow)"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        units = units_allowing(user, services.PERM_ADD)
        self.fields["unit"].queryset = OrgUnit.objects.filter(pk__in=[u.pk for u in units])
        if len(units) == 1 and not self.is_bound:
            self.fields["unit"].initial = units[0].pk


class MediaForm(forms.Form):
    file = forms.FileField(label=_("Image"), help_text=_("JPEG, PNG, GIF or WebP, 8 MB at most."))
    alt_text = forms.CharField(max_length=1500, required=False, widget=forms.Textarea(attrs={"rows": 2}),
                               label=_("Alt text"), help_text=_("Required: what the image shows, for people who "
                                                                "cannot see it."))


class SettingsForm(forms.Form):
    """A unit's links and queue settings (``services.update_settings`` checks them)."""

    utm_source = forms.CharField(max_length=200, required=False, label=_("utm_source"),
                                 help_text=_("{network} and {account} are replaced, e.g. {network}."))
    utm_medium = forms.CharField(max_length=200, required=False, label=_("utm_medium"))
    utm_campaign = forms.CharField(max_length=200, required=False, label=_("utm_campaign"),
                                   help_text=_("Empty: a campaign's posts use the campaign's name."))
    utm_content = forms.CharField(max_length=200, required=False, label=_("utm_content"))
    shorten_links = forms.BooleanField(required=False, label=_("Replace links by short links that count clicks"))
    slots = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6}), label=_("Posting slots"),
                            help_text=_("One a line: a day and a time, e.g. \"mon 09:00\"."))
    timezone = forms.CharField(max_length=64, required=False, label=_("Time zone of the slots"),
                               help_text=_("Empty: the unit's time zone."))

    def clean_slots(self):
        from dandelion.publishing.slots import parse_slots_text

        try:
            return parse_slots_text(self.cleaned_data.get("slots", ""))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


# --- employee advocacy ----------------------------------------------------------------------------------------------


class AdvocacyItemForm(forms.Form):
    unit = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("Library of"))
    title = forms.CharField(max_length=200, label=_("Title"))
    url = forms.URLField(max_length=2000, required=False, assume_scheme="https", label=_("Link to share"))
    language = forms.CharField(max_length=8, initial="en", label=_("Language of the suggested text"))
    text = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), label=_("Suggested text"))

    def __init__(self, *args, user, **kwargs):
        from dandelion.publishing import advocacy

        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = OrgUnit.objects.filter(
            pk__in=[u.pk for u in units_allowing(user, advocacy.PERM_ADD)])


class PersonalAccountForm(forms.Form):
    unit = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("I share for"))
    network = forms.CharField(max_length=40, label=_("Network"))
    handle = forms.CharField(max_length=150, label=_("Handle"))
    external_id = forms.CharField(max_length=150, label=_("The network's id for my account"))

    def __init__(self, *args, user, **kwargs):
        from dandelion.publishing import advocacy

        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = OrgUnit.objects.filter(
            pk__in=[u.pk for u in units_allowing(user, advocacy.PERM_SHARE)])


class PersonalConnectForm(forms.Form):
    """Connect one's own account through the network's consent screen (the networks whose connector offers it)."""

    unit = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("I share for"))
    network = forms.ChoiceField(choices=(), label=_("Network"))
    instance = forms.CharField(max_length=300, label=_("Server"),
                               help_text=_("Your server's address, e.g. https://mastodon.social"))

    def __init__(self, *args, user, networks, **kwargs):
        from dandelion.publishing import advocacy

        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = OrgUnit.objects.filter(
            pk__in=[u.pk for u in units_allowing(user, advocacy.PERM_SHARE)])
        self.fields["network"].choices = networks


class ShareForm(forms.Form):
    account = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("On my account"))
    text = forms.CharField(max_length=20000, required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           label=_("Text (edit as you like)"))

    def __init__(self, *args, user, **kwargs):
        from dandelion.publishing.models import PersonalAccount

        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = PersonalAccount.objects.filter(user=user, is_active=True).select_related(
            "unit")
