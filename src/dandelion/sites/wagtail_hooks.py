"""Wagtail admin hooks (found by Wagtail in every installed app): a page the hub's template requires cannot be
deleted, unpublished or moved out of its site, whoever asks (``services.protected_page_reason``)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from wagtail import hooks


def _refuse(request, page):
    from dandelion.sites.services import protected_page_reason

    reason = protected_page_reason(page)
    if reason is None:
        return None
    messages.error(request, reason)
    return redirect("wagtailadmin_pages:edit", page.pk)


@hooks.register("before_delete_page")
def keep_required_pages(request, page):
    return _refuse(request, page)


@hooks.register("before_unpublish_page")
def keep_required_pages_live(request, page):
    return _refuse(request, page)


@hooks.register("before_move_page")
def keep_required_pages_in_place(request, page, destination):
    return _refuse(request, page)


@hooks.register("after_publish_page")
def offer_social_post(request, page):
    """Publishing a website page offers to announce it on the unit's social accounts (a draft, never a post)."""
    from dandelion.sites.services import website_of_path

    if website_of_path(page.path) is None:
        return
    messages.info(request, format_html('{} <a href="{}">{}</a>', _("The page is live."),
                                       reverse("sites:share-page", args=[page.pk]),
                                       _("Announce it on the unit's social accounts")))
