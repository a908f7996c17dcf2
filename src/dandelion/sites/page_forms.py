"""The form Wagtail's admin edits a website page with: the hub's governance applied before anything is saved.

A page that lacks a block its template requires, renames a page the template requires, or fails one of the hub's
blocking guideline checks (banned terms, link domains...) gets a clear error on the field and is not saved (neither
as a draft nor published)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from wagtail.admin.forms import WagtailAdminPageForm


class WebsitePageForm(WagtailAdminPageForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("share_accounts")
        if field is None:
            return
        from dandelion.assets.models import SocialAccount
        from dandelion.sites import services

        page = self.instance
        anchor = page.path if page.pk else (self.parent_page.path if self.parent_page is not None else "")
        website = services.website_of_path(anchor) if anchor else None
        # only the official accounts of the site's unit can be chosen (the publishing app checks them again)
        ids = [a.pk for a in services.official_accounts(website.unit, include_parents=False)] if website else []
        field.queryset = SocialAccount.objects.filter(pk__in=ids).order_by("network", "handle")

    def clean(self):
        cleaned = super().clean()
        from dandelion.sites import services

        page = self.instance
        anchor = page.path if page.pk else (self.parent_page.path if self.parent_page is not None else "")
        website = services.website_of_path(anchor) if anchor else None
        if website is None:
            return cleaned
        if page.pk:
            parent = page.get_parent()
            key = services.rule_key(website, page_id=page.pk, parent_id=parent.pk if parent else None,
                                    slug=type(page).objects.filter(pk=page.pk).values_list("slug", flat=True).first()
                                    or page.slug)
        else:
            key = services.rule_key(website, page_id=None, parent_id=self.parent_page.pk,
                                    slug=cleaned.get("slug") or "")
        if cleaned.get("share_on_publish") and not cleaned.get("share_accounts"):
            self.add_error("share_accounts", _("Choose the accounts to announce the page on."))
        body = cleaned.get("body")
        body_types = [block.block_type for block in body] if body is not None else []
        body_raw = body.get_prep_value() if body is not None else []
        for field_name, message in services.page_problems(
                website=website, key=key, title=cleaned.get("title") or "", body_types=body_types,
                body_raw=body_raw, new_slug=cleaned.get("slug")):
            self.add_error(field_name if field_name in self.fields else None, message)
        return cleaned
