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
