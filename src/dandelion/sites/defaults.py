"""The hub's first site template, ``corporate`` (installed by a data migration; the hub changes it in the admin)."""

from __future__ import annotations

CORPORATE = {
    "name": "corporate",
    "title": "Corporate",
    "version": 2,  # v2: the home page must show the hero and the official accounts; a contact page on every site
    "tokens": {"primary": "#0b5cad", "accent": "#f2a900", "background": "#ffffff", "text": "#1b1f24",
               "font_family": "system-ui, sans-serif", "logo_url": ""},
    "starter_pages": [
        {"slug": "home", "title": "Welcome", "must_show": ["hero", "social_accounts"], "body": [
            {"type": "hero", "value": {"heading": "Welcome", "subheading": "News, help and contacts near you."}},
            {"type": "text", "value": "<p>We serve our customers here every day. Find help, news and the people "
                                      "behind our accounts.</p>"},
            {"type": "call_to_action", "value": {"text": "Need help with an order or a bill?", "label": "Get help",
                                                 "url": "https://help.example.org/"}},
            {"type": "social_accounts", "value": {"heading": "Our official accounts", "include_parents": True}},
        ]},
        {"slug": "about", "title": "About us", "body": [
            {"type": "text", "value": "<h2>Who we are</h2><p>Part of the group, close to you.</p>"},
        ]},
        {"slug": "contact", "title": "Contact and help", "required": True, "must_show": ["contact_links"], "body": [
            {"type": "contact_links", "value": {"heading": "Contact and help", "links": [
                {"label": "Help centre", "url": "https://help.example.org/"},
                {"label": "Write to us", "url": "https://help.example.org/contact"},
            ]}},
            {"type": "social_accounts", "value": {"heading": "Talk to us on social media", "include_parents": False}},
        ]},
    ],
}


def install_base():
    """What the migrations install for the websites, put back if missing and left alone if present (idempotent):
    Wagtail's default locale and root page, and the ``corporate`` template. A flushed database has none of them
    (``manage.py flush``; the end of every transactional test, which is why the browser test calls this first)."""
    from django.conf import settings
    from wagtail.coreutils import get_supported_content_language_variant
    from wagtail.models import Locale, Page

    from dandelion.sites.models import SiteTemplate

    Locale.objects.get_or_create(language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE))
    if Page.get_first_root_node() is None:
        Page.add_root(instance=Page(title="Root", slug="root", url_path="/"))
    template, _created = SiteTemplate.objects.get_or_create(
        name=CORPORATE["name"], defaults={k: v for k, v in CORPORATE.items() if k != "name"})
    return template
