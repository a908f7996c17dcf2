"""The StreamField blocks of the hub's site templates: what a spoke's page is made of.

The social-accounts block reads the account registry when the page is rendered (never a copy): the active accounts
of the site's unit and of its parents (``services.official_accounts``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock

BLOCK_NAMES = ("hero", "text", "image", "call_to_action", "social_accounts", "contact_links", "crisis_banner")


class HeroBlock(blocks.StructBlock):
    heading = blocks.CharBlock(max_length=120)
    subheading = blocks.CharBlock(max_length=240, required=False)

    class Meta:
        template = "sites/blocks/hero.html"
        icon = "title"
        label = _("Hero")


class ImageBlock(blocks.StructBlock):
    """An image of Wagtail's library, with the text that replaces it for those who cannot see it: required (the
    hub's "alt text on every image" guideline rule also checks pages written without this form)."""

    image = ImageChooserBlock()
    alt = blocks.CharBlock(max_length=250, label=_("Alternative text"),
                           help_text=_("What the image shows, for people who cannot see it (read aloud by screen "
                                       "readers)."))
    caption = blocks.CharBlock(max_length=250, required=False, label=_("Caption"))

    class Meta:
        template = "sites/blocks/image.html"
        icon = "image"
        label = _("Image")


def alt_texts(body_raw) -> list[str]:
    """The alternative text of every image block of a page body's raw data (an empty one for a missing text)."""
    return [str((block.get("value") or {}).get("alt") or "") for block in body_raw or []
            if isinstance(block, dict) and block.get("type") == "image"]


class CallToActionBlock(blocks.StructBlock):
    text = blocks.CharBlock(max_length=200, required=False)
    label = blocks.CharBlock(max_length=60)
    url = blocks.URLBlock()

    class Meta:
        template = "sites/blocks/call_to_action.html"
        icon = "link"
        label = _("Call to action")


class SocialAccountsBlock(blocks.StructBlock):
    heading = blocks.CharBlock(max_length=120, default=_("Follow us"))
    include_parents = blocks.BooleanBlock(required=False, default=True,
                                          help_text=_("Also list the official accounts of the parent units."))

    class Meta:
        template = "sites/blocks/social_accounts.html"
        icon = "group"
        label = _("Official social accounts")

    def get_context(self, value, parent_context=None):
        from dandelion.sites.services import official_accounts

        context = super().get_context(value, parent_context=parent_context)
        website = (parent_context or {}).get("website")
        context["accounts"] = (
            official_accounts(website.unit, include_parents=bool(value.get("include_parents"))) if website else []
        )
        return context


class LinkBlock(blocks.StructBlock):
    label = blocks.CharBlock(max_length=80)
    url = blocks.URLBlock()


class ContactLinksBlock(blocks.StructBlock):
    heading = blocks.CharBlock(max_length=120, default=_("Contact and help"))
    links = blocks.ListBlock(LinkBlock())

    class Meta:
        template = "sites/blocks/contact_links.html"
        icon = "help"
        label = _("Contact and help links")


class CrisisBannerBlock(blocks.StructBlock):
    message = blocks.CharBlock(max_length=300)
    level = blocks.ChoiceBlock(choices=[("info", _("Information")), ("warning", _("Warning")),
                                        ("critical", _("Critical"))], default="warning")
    url = blocks.URLBlock(required=False, help_text=_("Where to read more (optional)."))

    class Meta:
        template = "sites/blocks/crisis_banner.html"
        icon = "warning"
        label = _("Crisis banner")


class SiteBlocks(blocks.StreamBlock):
    hero = HeroBlock()
    text = blocks.RichTextBlock(features=["h2", "h3", "bold", "italic", "link", "ol", "ul"],
                                template="sites/blocks/text.html")
    image = ImageBlock()
    call_to_action = CallToActionBlock()
    social_accounts = SocialAccountsBlock()
    contact_links = ContactLinksBlock()
    crisis_banner = CrisisBannerBlock()
