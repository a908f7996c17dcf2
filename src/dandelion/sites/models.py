"""The websites factory: the hub's site templates, each unit's websites, and the Wagtail page types they use.

A :class:`SiteTemplate` (owned by the hub) carries a version, design tokens and the starter pages a new site gets;
a :class:`UnitSite` ties one Wagtail ``Site`` (a hostname and a root page) to the org unit it belongs to, the
template (and version) it follows and the Wagtail group of its editors (derived from memberships, never edited by
hand: ``services.sync_site_permissions``)."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalManyToManyField
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from dandelion.core.models import TimeStampedModel
from dandelion.core.querysets import OrgScope, RestrictedManager
from dandelion.sites.blocks import BLOCK_NAMES, SiteBlocks
from dandelion.sites.choices import CommentState, LinkKind
from dandelion.sites.page_forms import WebsitePageForm

COLOUR_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
FONT_RE = re.compile(r"^[A-Za-z0-9 ,'\-]{1,120}$")
TOKEN_DEFAULTS = {
    "primary": "#0b5cad", "accent": "#f2a900", "background": "#ffffff", "text": "#1b1f24",
    "font_family": "system-ui, sans-serif", "logo_url": "",
}
COLOUR_TOKENS = ("primary", "accent", "background", "text")


def validate_tokens(tokens) -> None:
    """Design tokens are data turned into CSS: only known keys, colours as #rgb/#rrggbb, a plain font list, and a
    logo served from this site (a path) or over HTTPS."""
    if not isinstance(tokens, dict):
        raise ValidationError(_("Design tokens must be an object."))
    unknown = sorted(set(tokens) - set(TOKEN_DEFAULTS))
    if unknown:
        raise ValidationError(_("Unknown design tokens: %(keys)s.") % {"keys": ", ".join(unknown)})
    for key in COLOUR_TOKENS:
        if key in tokens and not COLOUR_RE.match(str(tokens[key])):
            raise ValidationError(_("%(key)s must be a colour like #0b5cad.") % {"key": key})
    if "font_family" in tokens and not FONT_RE.match(str(tokens["font_family"])):
        raise ValidationError(_("font_family may hold letters, digits, spaces, commas, quotes and dashes only."))
    logo = str(tokens.get("logo_url", ""))
    if logo and not (logo.startswith("https://") or (logo.startswith("/") and not logo.startswith("//"))):
        raise ValidationError(_("logo_url must be a path on this site or an https:// address."))


def validate_starter_pages(pages) -> None:
    """``[{"slug": ..., "title": ..., "body": [{"type": <block>, "value": ...}]}]``; the first is the home page."""
    if not isinstance(pages, list) or not pages:
        raise ValidationError(_("A template needs at least its home page in starter_pages."))
    slugs = set()
    for n, page in enumerate(pages):
        if not isinstance(page, dict) or not str(page.get("title", "")).strip():
            raise ValidationError(_("Starter page %(n)s needs a title.") % {"n": n + 1})
        slug = str(page.get("slug", ""))
        if n and (not re.match(r"^[a-z0-9-]{1,80}$", slug) or slug in slugs):
            raise ValidationError(_("Starter page %(n)s needs a unique slug (a-z, 0-9, -).") % {"n": n + 1})
        slugs.add(slug)
        must_show = page.get("must_show", [])
        if not isinstance(must_show, list) or any(name not in BLOCK_NAMES for name in must_show):
            raise ValidationError(_("Starter page %(title)s must show a block the templates do not have: %(b)s.")
                                  % {"title": page["title"], "b": must_show})
        present = {block.get("type") for block in page.get("body", []) if isinstance(block, dict)}
        if set(must_show) - present:
            raise ValidationError(_("Starter page %(title)s must show blocks its own body lacks: %(b)s.")
                                  % {"title": page["title"], "b": ", ".join(sorted(set(must_show) - present))})
        for block in page.get("body", []):
            if not isinstance(block, dict) or block.get("type") not in BLOCK_NAMES:
                raise ValidationError(_("Starter page %(title)s uses a block the templates do not have: %(b)s.")
                                      % {"title": page["title"], "b": block.get("type") if isinstance(block, dict)
                                         else block})


class SiteTemplate(TimeStampedModel):
    """A site template owned by the hub: design tokens and starter pages, at a version the sites follow."""

    org_scope = OrgScope.organisation_wide("the hub's templates are offered to every unit's websites")

    name = models.SlugField(max_length=60, unique=True, help_text=_("Short name, e.g. corporate."))
    title = models.CharField(max_length=120)
    version = models.PositiveIntegerField(default=1)
    tokens = models.JSONField(default=dict, blank=True, validators=[validate_tokens],
                              help_text=_("Design tokens: primary, accent, background, text, font_family, logo_url."))
    starter_pages = models.JSONField(default=list, validators=[validate_starter_pages])
    is_active = models.BooleanField(default=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"

    def get_absolute_url(self) -> str:
        return reverse("sites:site-list")

    @property
    def audit_unit(self):
        return None  # the root unit (hub-owned)

    def design_tokens(self) -> dict[str, str]:
        return {**TOKEN_DEFAULTS, **{k: str(v) for k, v in (self.tokens or {}).items() if k in TOKEN_DEFAULTS}}


class UnitSite(TimeStampedModel):
    """One unit's website: a Wagtail site (hostname, root page), the template it follows, its editors' group."""

    org_scope = OrgScope(path="unit__path")

    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="websites")
    site = models.OneToOneField("wagtailcore.Site", on_delete=models.CASCADE, related_name="unit_site")
    template = models.ForeignKey(SiteTemplate, on_delete=models.PROTECT, related_name="sites")
    template_version = models.PositiveIntegerField()
    editors = models.OneToOneField("auth.Group", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="unit_site", editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    links_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    comments_account = models.OneToOneField(
        "assets.SocialAccount", null=True, blank=True, on_delete=models.SET_NULL, related_name="website",
        editable=False, help_text=_("The registry's account through which the blog's comments reach the inbox."))

    objects = RestrictedManager()

    class Meta:
        ordering = ["site__hostname"]

    def __str__(self) -> str:
        return self.site.hostname

    def get_absolute_url(self) -> str:
        return reverse("sites:site-list")

    @property
    def audit_unit(self):
        return self.unit

    @property
    def hostname(self) -> str:
        return self.site.hostname

    @property
    def is_outdated(self) -> bool:
        """The site follows an older version of its template than the current one."""
        return self.template_version < self.template.version

    def public_url(self) -> str:
        site = self.site
        port = "" if site.port in (80, 443) else f":{site.port}"
        scheme = "https" if site.port == 443 else "http"
        return f"{scheme}://{site.hostname}{port}/"


class SiteSection(TimeStampedModel):
    """An agency's section of a unit's website: the agency's editors edit (and submit for the hub's approval) the
    pages of one subtree, ``page`` and every page below it, and nothing else of the site. Chosen by the site's unit's
    admins or the hub (``services.grant_section``); the Wagtail group ``editors`` and its page permissions are
    derived by ``services.sync_site_permissions``, never edited by hand."""

    org_scope = OrgScope(path="website__unit__path")

    website = models.ForeignKey(UnitSite, on_delete=models.CASCADE, related_name="sections")
    page = models.ForeignKey("wagtailcore.Page", on_delete=models.CASCADE, related_name="+")
    agency = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="site_sections")
    editors = models.OneToOneField("auth.Group", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="site_section", editable=False)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = RestrictedManager()

    class Meta:
        ordering = ["website__site__hostname", "page__path"]
        constraints = [models.UniqueConstraint(fields=["website", "agency"], name="sites_one_section_per_agency")]

    def __str__(self) -> str:
        return f"{self.agency} on {self.website}: {self.page.title}"

    def get_absolute_url(self) -> str:
        return reverse("sites:site-list")

    @property
    def audit_unit(self):
        return self.website.unit


def _site_context(page, context, request):
    from dandelion.sites.services import page_alternates, website_for_page

    website = website_for_page(page, request)
    context["website"] = website
    context["tokens"] = website.template.design_tokens() if website else dict(TOKEN_DEFAULTS)
    context["site_root"] = (website.site.root_page.localized if website else None)
    context["alternates"] = page_alternates(page, request)
    return context


class ShareOnPublish(models.Model):
    """What a page's editor chooses in its *Settings* tab: announce the page on the unit's social accounts when it
    is published. Each publication with the box ticked gives one publishing draft (``services.share_published_page``,
    ``PageShare``), submitted to the hub's approval workflow of the publishing app."""

    share_on_publish = models.BooleanField(
        _("announce on social media when published"), default=False,
        help_text=_("A social post draft (title, summary, link) for the accounts below, sent to the hub's approval."))
    share_accounts = ParentalManyToManyField(
        "assets.SocialAccount", blank=True, related_name="+", verbose_name=_("accounts to announce it on"),
        help_text=_("The official accounts of the site's unit."))

    share_panel = MultiFieldPanel([FieldPanel("share_on_publish"),
                                   FieldPanel("share_accounts", widget=forms.CheckboxSelectMultiple)],
                                  heading=_("Share on social media"))

    class Meta:
        abstract = True


class WebsitePage(ShareOnPublish, Page):
    """A page of a unit's website (the site's home page and every page below it)."""

    org_scope = OrgScope.internal("pages are read on their website and edited in Wagtail's admin, whose page "
                                  "permissions services.sync_site_permissions derives from the org tree")

    body = StreamField(SiteBlocks(), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("body")]
    settings_panels = [*Page.settings_panels, ShareOnPublish.share_panel]
    search_fields = [*Page.search_fields, index.SearchField("body")]  # each site's search (views.website_search)
    base_form_class = WebsitePageForm  # the hub's governance: must-show blocks and pages, guideline checks
    template = "sites/website_page.html"

    class Meta:
        verbose_name = _("website page")

    def get_context(self, request, *args, **kwargs):
        return _site_context(self, super().get_context(request, *args, **kwargs), request)


class BrokenLink(models.Model):
    """A link of a website's live page that leads nowhere, found by the last broken-link check of the site
    (``services.check_site_links``: each run replaces the site's findings)."""

    org_scope = OrgScope(path="website__unit__path")

    website = models.ForeignKey(UnitSite, on_delete=models.CASCADE, related_name="broken_links")
    page = models.ForeignKey(WebsitePage, on_delete=models.CASCADE, related_name="+")
    url = models.CharField(max_length=2000)
    kind = models.CharField(max_length=10, choices=LinkKind.choices, default=LinkKind.INTERNAL)
    reason = models.CharField(max_length=200)
    status = models.PositiveSmallIntegerField(null=True, blank=True,
                                              help_text=_("The HTTP status the address answered (none: no answer)."))
    found_at = models.DateTimeField()

    objects = RestrictedManager()

    class Meta:
        ordering = ["website", "page_id", "url"]
        verbose_name = _("broken link")

    def __str__(self) -> str:
        return f"{self.url} ({self.reason})"

    def get_absolute_url(self) -> str:
        return reverse("sites:links", args=[self.website_id])

    @property
    def audit_unit(self):
        return self.website.unit


class PageShare(models.Model):
    """A website page's publication announced on social media: the publishing draft made for one published revision
    (at most one per revision: publishing it again makes no second draft), or why none could be made."""

    org_scope = OrgScope(path="website__unit__path")

    website = models.ForeignKey(UnitSite, on_delete=models.CASCADE, related_name="page_shares")
    page = models.ForeignKey("wagtailcore.Page", on_delete=models.CASCADE, related_name="+")
    revision_id = models.PositiveIntegerField()
    post = models.ForeignKey("publishing.Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("page announcement")
        constraints = [models.UniqueConstraint(fields=["page", "revision_id"], name="sites_one_share_per_revision")]

    def __str__(self) -> str:
        return f"{self.page_id}@{self.revision_id}: {self.post_id or self.error}"

    def get_absolute_url(self) -> str:
        return reverse("sites:share-page", args=[self.page_id])

    @property
    def audit_unit(self):
        return self.website.unit


# --- expert blogs ------------------------------------------------------------------------------------------------


class BlogIndexPage(Page):
    """A unit's expert blog: lists its live posts, newest first (``services.create_blog`` adds it to a site)."""

    org_scope = OrgScope.internal("blog pages are read on their website and edited in Wagtail's admin, like every "
                                  "website page")

    intro = RichTextField(blank=True, features=["bold", "italic", "link"])

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    subpage_types = ["sites.BlogPostPage"]
    template = "sites/blog_index.html"

    class Meta:
        verbose_name = _("blog")

    def get_context(self, request, *args, **kwargs):
        context = _site_context(self, super().get_context(request, *args, **kwargs), request)
        context["posts"] = (BlogPostPage.objects.child_of(self).live().select_related("author")
                            .order_by("-first_published_at", "-pk"))
        return context


class BlogPostPage(ShareOnPublish, Page):
    """A post of an expert blog, written by a member of the organisation (``author``), open to visitors' comments
    (``BlogComment``), which arrive in the unified inbox through the website's connector."""

    org_scope = OrgScope.internal("blog pages are read on their website and edited in Wagtail's admin, like every "
                                  "website page")

    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", help_text=_("A member of the site's unit (or of a unit above it)."))
    body = StreamField(SiteBlocks(), blank=True)
    comments_open = models.BooleanField(default=True)

    content_panels = [*Page.content_panels, FieldPanel("author"), FieldPanel("body"), FieldPanel("comments_open")]
    settings_panels = [*Page.settings_panels, ShareOnPublish.share_panel]
    search_fields = [*Page.search_fields, index.SearchField("body")]
    base_form_class = WebsitePageForm  # the hub's guideline checks apply to posts too
    parent_page_types = ["sites.BlogIndexPage"]
    subpage_types: list[str] = []
    template = "sites/blog_post.html"

    class Meta:
        verbose_name = _("blog post")

    def clean(self):
        super().clean()
        if self.author_id is None:
            return
        from dandelion.sites.blog import blog_author_allowed

        anchor = self.path or (self.get_parent().path if self.pk else "")
        if anchor and not blog_author_allowed(self.author_id, path=anchor):
            raise ValidationError({"author": _("The author must be an active member of the site's unit or of a "
                                               "unit above it.")})

    def get_context(self, request, *args, **kwargs):
        context = _site_context(self, super().get_context(request, *args, **kwargs), request)
        from dandelion.sites.forms import BlogCommentForm

        comments = list(BlogComment.objects.filter(post=self, state=CommentState.VISIBLE).order_by("created_at", "pk"))
        replies: dict[int, list] = {}
        for comment in comments:
            if comment.parent_id:
                replies.setdefault(comment.parent_id, []).append(comment)
        context["comments"] = [(c, replies.get(c.pk, [])) for c in comments if c.parent_id is None]
        context.setdefault("comment_form", BlogCommentForm())
        return context

    def serve(self, request, *args, **kwargs):
        if request.method == "POST":
            from dandelion.sites.views import post_blog_comment

            return post_blog_comment(request, self)
        return super().serve(request, *args, **kwargs)


class BlogComment(models.Model):
    """A visitor's comment under a blog post, or the site's answer to one (``from_site``: written by an agent in
    the unified inbox and published by the website's connector). Its inbox id is ``comment-<pk>``."""

    org_scope = OrgScope(path="website__unit__path")

    website = models.ForeignKey(UnitSite, on_delete=models.CASCADE, related_name="blog_comments")
    post = models.ForeignKey(BlogPostPage, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies")
    author_name = models.CharField(max_length=80)
    author_key = models.CharField(max_length=64, db_index=True,
                                  help_text=_("A digest of the visitor's e-mail address (the address is not kept)."))
    text = models.TextField(max_length=2000)
    from_site = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=CommentState.choices, default=CommentState.VISIBLE)
    idempotency_key = models.CharField(max_length=100, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("blog comment")

    def __str__(self) -> str:
        return f"{self.author_name}: {self.text[:40]}"

    @property
    def external_id(self) -> str:
        return f"comment-{self.pk}"

    def get_absolute_url(self) -> str:
        return f"{self.post.url}#comment-{self.pk}"

    @property
    def audit_unit(self):
        return self.website.unit


class BlogCommentBan(models.Model):
    """A visitor (by the digest of their e-mail address) banned from commenting on a website's blog."""

    org_scope = OrgScope(path="website__unit__path")

    website = models.ForeignKey(UnitSite, on_delete=models.CASCADE, related_name="comment_bans")
    author_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()

    class Meta:
        ordering = ["website", "author_key"]
        constraints = [models.UniqueConstraint(fields=["website", "author_key"], name="sites_one_ban_per_author")]

    def __str__(self) -> str:
        return f"{self.website}: {self.author_key[:12]}"

    def get_absolute_url(self) -> str:
        return reverse("sites:site-list")

    @property
    def audit_unit(self):
        return self.website.unit
