from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dandelion.community.choices import ArticleKind, ArticleStatus, Language, ProfileVisibility
from dandelion.orgs.models import OrgUnit


def _unit_field(user, perm_action="add"):
    from dandelion.core.permissions import has_perm

    units = [u for u in OrgUnit.objects.restrict(user, "view").filter(is_active=True).order_by("path")
             if has_perm(user, f"community.{perm_action}", u)]
    return forms.ModelChoiceField(queryset=OrgUnit.objects.filter(pk__in=[u.pk for u in units]).order_by("path"),
                                  label=_("Unit (the hub: group-wide)"))


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=200, required=False)


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(label=_("Summary"), max_length=300, required=False)
    body = forms.CharField(label=_("Body (Markdown)"), widget=forms.Textarea(attrs={"rows": 14}), max_length=200_000)
    kind = forms.ChoiceField(label=_("Kind"), choices=ArticleKind.choices)
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    status = forms.ChoiceField(label=_("Status"), choices=ArticleStatus.choices, initial=ArticleStatus.PUBLISHED)
    review_by = forms.DateField(label=_("Review by"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    tags = forms.CharField(label=_("Tags (comma separated)"), required=False, max_length=500)
    change_note = forms.CharField(label=_("What changed"), required=False, max_length=300)

    def __init__(self, *args, user=None, with_unit=True, **kwargs):
        super().__init__(*args, **kwargs)
        if with_unit:
            self.fields["unit"] = _unit_field(user, "add_article")
            self.order_fields(["unit"])
            del self.fields["change_note"]

    def clean_tags(self):
        return [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]


class FeedbackForm(forms.Form):
    useful = forms.TypedChoiceField(choices=(("1", _("Yes")), ("0", _("No"))), coerce=lambda v: v == "1")
    comment = forms.CharField(max_length=500, required=False)


class QuestionForm(forms.Form):
    title = forms.CharField(label=_("Your question"), max_length=200)
    body = forms.CharField(label=_("Details (Markdown)"), widget=forms.Textarea(attrs={"rows": 6}), required=False,
                           max_length=200_000)
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    tags = forms.CharField(label=_("Tags (comma separated)"), required=False, max_length=500)

    def clean_tags(self):
        return [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]


class AnswerForm(forms.Form):
    body = forms.CharField(label=_("Your answer (Markdown)"), widget=forms.Textarea(attrs={"rows": 6}),
                           max_length=200_000)


class ToArticleForm(forms.Form):
    title = forms.CharField(label=_("Article title"), max_length=200)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"] = _unit_field(user, "add_article")


class GatheringForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description (Markdown)"), widget=forms.Textarea(attrs={"rows": 6}),
                                  required=False)
    starts_at = forms.DateTimeField(label=_("Starts"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(label=_("Ends"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    place = forms.CharField(label=_("Place"), max_length=300, required=False)
    online_url = forms.URLField(label=_("Online link"), max_length=500, required=False, assume_scheme="https")
    capacity = forms.IntegerField(label=_("Capacity"), min_value=1, max_value=100_000, initial=50)
    count = forms.IntegerField(label=_("How many gatherings (a recurring series when more than one)"), min_value=1,
                               max_value=24, initial=1, required=False)
    every_months = forms.IntegerField(label=_("Every how many months"), min_value=1, max_value=12, initial=2,
                                      required=False)
    open_to_guests = forms.BooleanField(label=_("Open to outside guests (registration by e-mail)"), required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"] = _unit_field(user, "add_gathering")
        self.order_fields(["unit"])

    def clean(self):
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", _("The gathering must end after it starts."))
        return data


def _split(value: str) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


class ProfileForm(forms.Form):
    """One's own entry in the members directory."""

    unit = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("Unit you work for"))
    headline = forms.CharField(label=_("What you run"), max_length=200, required=False)
    networks = forms.CharField(label=_("Networks (comma separated)"), max_length=500, required=False)
    languages = forms.CharField(label=_("Languages (two-letter codes, comma separated)"), max_length=200,
                                required=False)
    skills = forms.CharField(label=_("Skills (comma separated)"), max_length=1000, required=False)
    bio = forms.CharField(label=_("About you"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000,
                          required=False)
    contact_email = forms.EmailField(label=_("Contact e-mail"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    chat = forms.CharField(label=_("Chat handle or channel"), max_length=150, required=False)
    open_to_questions = forms.BooleanField(label=_("Listed in “ask an expert”"), required=False)
    visibility = forms.ChoiceField(label=_("Who sees this entry"), choices=ProfileVisibility.choices)
    weekly_digest = forms.BooleanField(label=_("Send me the community's weekly digest"), required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from dandelion.core.permissions import get_grants

        paths = {g.unit_path for g in get_grants(user)} if user is not None else set()
        self.fields["unit"].queryset = OrgUnit.objects.filter(path__in=paths).order_by("path")

    def clean_networks(self):
        return _split(self.cleaned_data["networks"])

    def clean_languages(self):
        return _split(self.cleaned_data["languages"])

    def clean_skills(self):
        return _split(self.cleaned_data["skills"])


class DirectorySearchForm(forms.Form):
    q = forms.CharField(label=_("Name, unit, skill…"), max_length=200, required=False)
    network = forms.CharField(label=_("Network"), max_length=60, required=False)
    language = forms.CharField(label=_("Language"), max_length=2, required=False)
    skill = forms.CharField(label=_("Skill"), max_length=60, required=False)
    experts = forms.BooleanField(label=_("Only those who take questions"), required=False)


class AskExpertForm(forms.Form):
    title = forms.CharField(label=_("Your question"), max_length=200)
    body = forms.CharField(label=_("Details (Markdown)"), widget=forms.Textarea(attrs={"rows": 5}),
                           max_length=20_000, required=False)


class MaterialForm(forms.Form):
    """Slides, notes or a recording attached after a gathering: a link or a file (checked by the service)."""

    title = forms.CharField(label=_("Title"), max_length=200)
    url = forms.URLField(label=_("Link (slides, recording)"), max_length=500, required=False, assume_scheme="https")
    file = forms.FileField(label=_("Or a file (PDF, slides, image)"), required=False)

    def clean(self):
        data = super().clean()
        if bool(data.get("url")) == bool(data.get("file")):
            raise forms.ValidationError(_("Give a link or a file (one of them)."))
        return data


class GuestForm(forms.Form):
    """An outside guest's registration for a gathering open to guests."""

    name = forms.CharField(label=_("Your name"), max_length=150)
    email = forms.EmailField(label=_("Your e-mail address"), max_length=254)
    affiliation = forms.CharField(label=_("Company or organisation"), max_length=150, required=False)


class SeriesEditForm(forms.Form):
    """Change this gathering of a series and the following ones."""

    starts_at = forms.DateTimeField(label=_("Starts"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(label=_("Ends"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    place = forms.CharField(label=_("Place"), max_length=300, required=False)
    online_url = forms.URLField(label=_("Online link"), max_length=500, required=False, assume_scheme="https")
    capacity = forms.IntegerField(label=_("Capacity"), min_value=1, max_value=100_000)


class GuestInviteForm(forms.Form):
    """An organiser invites an outside speaker or attendee: they get a login limited to this gathering."""

    name = forms.CharField(label=_("Guest's name"), max_length=150)
    email = forms.EmailField(label=_("Guest's e-mail address"), max_length=254)
    affiliation = forms.CharField(label=_("Company or organisation"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Invited as"), choices=(("speaker", _("Speaker")),
                                                            ("attendee", _("Outside attendee"))))
    language = forms.ChoiceField(label=_("Language of the invitation"), required=False,
                                 choices=(("", _("This page's")), ("en", "English"), ("fr", "Français")))
