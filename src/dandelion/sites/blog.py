"""Expert blogs: a website's blog, its visitors' comments, and the blog's API for the ``website`` connector.

Writes by people (``create_blog``) take a keyword-only ``actor``, check the permission and write one audit row.
A visitor's comment (``post_comment``) is inbound, like a network's delivery: not audited, bounded at the edge
(``forms.BlogCommentForm``, the view's rate limit and honeypot), and fetched into the unified inbox by the
connector once committed. The functions under "the blog's API" are what ``connectors/website`` calls: they take
the site's hostname and plain values and return plain dicts, and raise ``LookupError`` for an unknown site or
comment (the connector turns it into a permanent ``ConnectorError``)."""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from dandelion.core import audit
from dandelion.core.permissions import require_perm
from dandelion.orgs.models import Membership
from dandelion.sites.choices import CommentState
from dandelion.sites.exceptions import InvalidSiteData
from dandelion.sites.models import BlogComment, BlogCommentBan, BlogIndexPage, BlogPostPage, UnitSite

COMMENTS_CONNECTOR = (
    "website"  # the connector plugin that brings a blog's comments to the inbox (connectors/website)
)


def author_key(email: str) -> str:
    """What identifies a visitor across comments without keeping their address: a digest of it (40 hex)."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:40]


def blog_author_allowed(user_id: int, *, path: str) -> bool:
    """An author is an active member of the website's unit or of a unit above it (an expert of the organisation)."""
    from dandelion.sites.services import website_of_path

    website = website_of_path(path)
    if website is None:
        return False
    return Membership.objects.filter(
        user_id=user_id,
        user__is_active=True,
        is_active=True,
        unit__in=website.unit.ancestors(include_self=True),
    ).exists()


@transaction.atomic
def create_blog(*, actor, website: UnitSite, title: str = "", slug: str = "blog") -> BlogIndexPage:
    """Add an expert blog below ``website``'s home page (published) and register the blog's comments as an account
    of the site's unit in the registry (network ``website``), so they arrive in the unified inbox."""
    from dandelion.assets.services import register_account
    from dandelion.sites.services import PERM_EDIT

    require_perm(actor, PERM_EDIT, website.unit)
    root = website.site.root_page
    slug = slugify(slug or "blog")[:80] or "blog"
    if root.get_children().filter(slug=slug).exists():
        raise InvalidSiteData(_("The site already has a page at /%(slug)s/.") % {"slug": slug}, field="slug")
    title = (title or _("Blog")).strip()[:255]
    index = BlogIndexPage(title=title, slug=slug, owner=actor if getattr(actor, "pk", None) else None)
    root.add_child(instance=index)
    index.save_revision(user=None).publish(skip_permission_checks=True)
    if website.comments_account_id is None:
        account = register_account(
            actor=actor,
            owner_unit=website.unit,
            network=COMMENTS_CONNECTOR,
            connector=COMMENTS_CONNECTOR,
            handle=website.hostname,
            external_id=website.hostname,
            url=website.public_url(),
            display_name=_("Comments of %(host)s") % {"host": website.hostname},
            languages=list(website.unit.languages or []),
        )
        UnitSite.objects.filter(pk=website.pk).update(comments_account=account)
        website.comments_account = account
    audit.record(
        actor=actor,
        action="sites.blog.create",
        obj=website,
        summary=f"Blog /{slug}/ on {website.hostname}",
        changes={"blog": [None, index.pk]},
    )
    return index


def _website_of_post(post: BlogPostPage) -> UnitSite:
    from dandelion.sites.services import website_of_path

    website = website_of_path(post.path)
    if website is None:
        raise InvalidSiteData(_("This post belongs to no unit's website."), field="post")
    return website


@transaction.atomic
def post_comment(*, post: BlogPostPage, name: str, email: str, text: str) -> BlogComment | None:
    """A visitor's comment under ``post`` (validated by ``forms.BlogCommentForm``). Refused when comments are closed
    or the author is banned; once committed, the site's comments account is polled so it reaches the inbox."""
    if not post.comments_open or not post.live:
        raise InvalidSiteData(_("Comments are closed on this post."), field="text")
    website = _website_of_post(post)
    key = author_key(email)
    if BlogCommentBan.objects.filter(website=website, author_key=key).exists():
        raise InvalidSiteData(_("Your comments are not accepted on this site."), field="text")
    comment = BlogComment.objects.create(
        website=website, post=post, author_name=name[:80], author_key=key, text=text[:2000]
    )
    if website.comments_account_id:
        from dandelion.sites.jobs import fetch_blog_comments

        account_id = website.comments_account_id
        transaction.on_commit(lambda: fetch_blog_comments.enqueue(account_id), robust=True)
    return comment


# --- the blog's API (what connectors/website calls) ---------------------------------------------------------------


def _website(hostname: str) -> UnitSite:
    website = UnitSite.objects.select_related("site__root_page").filter(site__hostname=hostname).first()
    if website is None:
        raise LookupError(f"no website answers on {hostname}")
    return website


def _comment(website: UnitSite, external_id: str) -> BlogComment:
    pk = external_id.removeprefix("comment-")
    comment = (
        BlogComment.objects.filter(website=website, pk=int(pk)).select_related("post").first()
        if pk.isdigit()
        else None
    )
    if comment is None:
        raise LookupError(f"no comment {external_id} on {website.hostname}")
    return comment


def _url(website: UnitSite, comment: BlogComment) -> str:
    from dandelion.sites.services import page_public_url

    return f"{page_public_url(website, comment.post)}#comment-{comment.pk}"


def comments_since(hostname: str, after: int, limit: int) -> tuple[list[dict], int, bool]:
    """The visitors' comments of the site with an id above ``after``, oldest first, at most ``limit``; the last id
    looked at (the site's own replies included, so the cursor moves past them) and whether more wait."""
    website = _website(hostname)
    rows = list(
        BlogComment.objects.filter(website=website, pk__gt=after)
        .select_related("post", "parent")
        .order_by("pk")[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        {
            "external_id": c.external_id,
            "text": c.text,
            "created_at": c.created_at,
            "author_key": c.author_key,
            "author_name": c.author_name,
            "in_reply_to": c.parent.external_id if c.parent_id else None,
            "post_title": c.post.title,
            "url": _url(website, c),
        }
        for c in rows
        if not c.from_site and c.state != CommentState.DELETED
    ]
    return items, (rows[-1].pk if rows else after), more


@transaction.atomic
def publish_reply(hostname: str, in_reply_to: str, text: str, idempotency_key: str) -> dict:
    """Publish the site's answer under the comment ``in_reply_to`` (once per ``idempotency_key``)."""
    website = _website(hostname)
    parent = _comment(website, in_reply_to)
    reply = (
        BlogComment.objects.filter(website=website, idempotency_key=idempotency_key).first()
        if idempotency_key
        else None
    )
    if reply is None:
        reply = BlogComment.objects.create(
            website=website,
            post=parent.post,
            parent=parent.parent or parent,
            from_site=True,
            author_name=(website.site.site_name or website.unit.name)[:80],
            author_key="",
            text=text[:2000],
            idempotency_key=idempotency_key[:100],
        )
    return {"external_id": reply.external_id, "created_at": reply.created_at, "url": _url(website, reply)}


_STATES = {"hide": CommentState.HIDDEN, "unhide": CommentState.VISIBLE, "delete": CommentState.DELETED}


def moderate_comment(hostname: str, external_id: str, action: str) -> None:
    """Hide, show again or delete a comment on the blog (what the inbox's moderation asks)."""
    if action not in _STATES:
        raise LookupError(f"unknown moderation action {action}")
    comment = _comment(_website(hostname), external_id)
    BlogComment.objects.filter(pk=comment.pk).update(state=_STATES[action])


@transaction.atomic
def ban_author(hostname: str, key: str) -> int:
    """Refuse the author's next comments on the site and hide their visible ones; how many were hidden."""
    website = _website(hostname)
    BlogCommentBan.objects.get_or_create(
        website=website, author_key=key, defaults={"created_at": timezone.now()}
    )
    return BlogComment.objects.filter(
        website=website, author_key=key, state=CommentState.VISIBLE, from_site=False
    ).update(state=CommentState.HIDDEN)
