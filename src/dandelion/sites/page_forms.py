"""The form Wagtail's admin edits a website page with: the hub's governance applied before anything is saved.

A page that lacks a block its template requires, renames a page the template requires, or fails one of the hub's
blocking guideline checks (banned terms, link domains...) gets a clear error on the field and is not saved (neither
as a draft nor published)."""

from __future__ import annotations

from wagtail.admin.forms import WagtailAdminPageForm


class WebsitePageForm(WagtailAdminPageForm):
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
        body = cleaned.get("body")
        body_types = [block.block_type for block in body] if body is not None else []
        body_raw = body.get_prep_value() if body is not None else []
        for field_name, message in services.page_problems(
                website=website, key=key, title=cleaned.get("title") or "", body_types=body_types,
                body_raw=body_raw, new_slug=cleaned.get("slug")):
            self.add_error(field_name if field_name in self.fields else None, message)
        return cleaned
