from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dandelion.analytics.choices import StoryTheme
from dandelion.analytics.models import SuccessStory


class StoryForm(forms.ModelForm):
    """A story's text, its property and its before/after windows; the units and accounts offered are those the
    author may write stories for (anything else is "not one of the choices", as a missing one)."""

    class Meta:
        model = SuccessStory
        fields = ["unit", "account", "title", "theme", "body", "before_start", "before_end", "after_start",
                  "after_end"]
        widgets = {f: forms.DateInput(attrs={"type": "date"})
                   for f in ("before_start", "before_end", "after_start", "after_end")}
        widgets["body"] = forms.Textarea(attrs={"rows": 12})
        labels = {"body": _("What you did and why (Markdown)")}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        from dandelion.assets.models import SocialAccount
        from dandelion.core.permissions import has_perm
        from dandelion.orgs.models import OrgUnit

        visible = OrgUnit.objects.restrict(user, "view").order_by("path")
        allowed = [u.pk for u in visible if has_perm(user, "analytics.add_successstory", u)]
        self.fields["unit"].queryset = visible.filter(pk__in=allowed)
        self.fields["account"].queryset = SocialAccount.objects.restrict(user, "view").order_by("network", "handle")
        self.fields["theme"].initial = StoryTheme.OTHER
        if self.instance.pk:
            del self.fields["unit"]

    def clean(self):
        data = super().clean()
        for name in ("before", "after"):
            start, end = data.get(f"{name}_start"), data.get(f"{name}_end")
            if bool(start) != bool(end):
                self.add_error(f"{name}_end", _("Give both ends of the window."))
            elif start and end and end < start:
                self.add_error(f"{name}_end", _("The window ends before it starts."))
        return data
