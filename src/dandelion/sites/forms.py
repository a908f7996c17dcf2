from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dandelion.orgs.models import OrgUnit
from dandelion.sites.models import SiteTemplate


class PageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{'— ' * max(obj.depth - 3, 0)}{obj.title} ({obj.url_path.split('/', 2)[-1] or '/'})"


class SectionForm(forms.Form):
    """Give an agency one section of ``website``: a page below its home page (and every page below it)."""

    agency = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("Agency"))
    page = PageChoiceField(queryset=None, label=_("Section (this page and every page below it)"))

    def __init__(self, *args, website=None, **kwargs):
        from wagtail.models import Page

        from dandelion.orgs.choices import UnitKind

        super().__init__(*args, **kwargs)
        # every active agency is offered (choosing one is the point); the service checks the rest
        self.fields["agency"].queryset = OrgUnit.objects.filter(kind=UnitKind.AGENCY, is_active=True).order_by("name")
        self.fields["page"].queryset = (Page.objects.descendant_of(website.site.root_page).order_by("path")
                                        if website is not None else Page.objects.none())


class SiteCreateForm(forms.Form):
    unit = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("Unit"))
    template = forms.ModelChoiceField(queryset=SiteTemplate.objects.none(), label=_("Template"), to_field_name="name")
    hostname = forms.CharField(max_length=253, label=_("Hostname"), help_text=_("e.g. fr.example.org"))
    site_name = forms.CharField(max_length=255, required=False, label=_("Site name"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = OrgUnit.objects.restrict(user, "view").filter(is_active=True).order_by("path")
        self.fields["template"].queryset = SiteTemplate.objects.filter(is_active=True)


def _plain_text(value: str) -> str:
    """Untrusted text bounded at the edge: no NUL, no lone surrogates, no other control characters but newlines."""
    if any(ch == "\x00" or 0xD800 <= ord(ch) <= 0xDFFF or (ord(ch) < 32 and ch not in "\n\r\t") for ch in value):
        raise forms.ValidationError(_("This text contains characters that are not allowed."))
    return value.strip()


class BlogCommentForm(forms.Form):
    """A visitor's comment under a blog post. ``homepage`` is a honeypot: hidden from people (CSS and
    ``aria-hidden``), filled by bots; a comment that fills it is dropped without a word."""

    name = forms.CharField(max_length=80, label=_("Your name"))
    email = forms.EmailField(max_length=254, label=_("Your e-mail address"),
                             help_text=_("Not published, not kept: only used to recognise repeated abuse."))
    text = forms.CharField(min_length=2, max_length=2000, label=_("Your comment"),
                           widget=forms.Textarea(attrs={"rows": 5}))
    homepage = forms.CharField(required=False, max_length=200, label=_("Leave this field empty"),
                               widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}))

    def clean_name(self):
        return _plain_text(self.cleaned_data["name"])

    def clean_text(self):
        text = _plain_text(self.cleaned_data["text"])
        if len(text) < 2:
            raise forms.ValidationError(_("Your comment is empty."))
        return text

    @property
    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get("homepage"))


class CrisisBannerForm(forms.Form):
    """The crisis room's banner for the websites of the incident's unit and below (``services.push_crisis_banner``
    checks the rest); ``confirm`` is set by the confirmation page, which says how many sites will show it."""

    message = forms.CharField(max_length=300, required=False, label=_("Banner message"),
                              help_text=_("Empty: the banner is taken down."),
                              widget=forms.Textarea(attrs={"rows": 2}))
    level = forms.ChoiceField(choices=(("info", _("Information")), ("warning", _("Warning")),
                                       ("critical", _("Critical"))), initial="warning", label=_("Level"))
    url = forms.URLField(required=False, max_length=500, assume_scheme="https", label=_("Link (https://)"))
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean_message(self):
        return _plain_text(self.cleaned_data["message"])
