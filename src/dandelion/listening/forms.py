from django import forms
from django.utils.translation import gettext_lazy as _

from dandelion.assets.models import SocialAccount
from dandelion.listening.models import ListeningQuery
from dandelion.listening.query import QuerySyntaxError, compile_query
from dandelion.orgs.models import OrgUnit


class QueryForm(forms.ModelForm):
    """The query editor: a query that does not parse is shown back with the mistake's position."""

    unit = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), label=_("Unit"))

    class Meta:
        model = ListeningQuery
        fields = ["name", "unit", "text", "description", "is_active", "is_competitor", "network_search"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "mono",
                                                 "data-query-editor": "1"})}
        help_texts = {"text": _('Words, "quoted phrases", #hashtags, @mentions, AND, OR, NOT (or -), parentheses, '
                                'lang:fr, network:bluesky, country:FR, author:handle, prefix*')}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = OrgUnit.objects.restrict(user, "view").order_by("path")
        self.parse_error_position: int | None = None

    def clean_text(self):
        text = (self.cleaned_data.get("text") or "").strip()
        try:
            compile_query(text)
        except QuerySyntaxError as exc:
            self.parse_error_position = exc.position
            raise forms.ValidationError(str(exc)) from None
        return text


class ToInboxForm(forms.Form):
    account = forms.ModelChoiceField(queryset=SocialAccount.objects.none(), label=_("Inbox of the account"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = SocialAccount.objects.restrict(user, "view").live().order_by("handle")
