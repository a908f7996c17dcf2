"""Images on posts: alt text required, checked to be an image within bounds, stored through Django's storage with
a thumbnail. A post that was in review, approved or scheduled goes back to review when its images change."""

from __future__ import annotations

import io

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from dandelion.core import audit
from dandelion.core.permissions import require_perm
from dandelion.publishing import services
from dandelion.publishing.choices import EDITABLE_STATES, PostState
from dandelion.publishing.exceptions import InvalidPost, InvalidTransition
from dandelion.publishing.models import Post, PostMedia

MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000  # past this, a small file may be a decompression bomb
MAX_MEDIA = 4
MAX_ALT = 1500
THUMB_SIZE = (320, 320)
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


def inspect_image(data: bytes, *, name: str = "") -> tuple[str, int, int]:
    """``(content type, width, height)`` of an image, or ``InvalidPost`` naming the file field."""
    from PIL import Image, UnidentifiedImageError

    label = name[:80] or "The file"
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidPost(_("%(label)s is larger than %(value)s MB.") % {"label": label, "value": MAX_IMAGE_BYTES // 1024 // 1024}, field="file")
    if not data:
        raise InvalidPost(_("%(label)s is empty.") % {"label": label}, field="file")
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt, (width, height) = image.format or "", image.size
            if width * height > MAX_PIXELS:
                raise InvalidPost(_("%(label)s has too many pixels (%(width)s×%(height)s).") % {"label": label, "width": width, "height": height}, field="file")
            image.verify()
    except InvalidPost:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InvalidPost(_("%(label)s is not an image (JPEG, PNG, GIF or WebP).") % {"label": label}, field="file") from None
    if fmt not in FORMATS:
        raise InvalidPost(_("%(label)s is a %(value)s image: use JPEG, PNG, GIF or WebP.") % {"label": label, "value": fmt or 'unknown'}, field="file")
    return FORMATS[fmt], width, height


def make_thumbnail(data: bytes) -> bytes:
    """A PNG at most 320 px wide and high."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail(THUMB_SIZE)
        out = io.BytesIO()
        image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB").save(out, format="PNG")
    return out.getvalue()


def _changed(post: Post, *, actor) -> None:
    if post.state != PostState.DRAFT:
        services._resubmit(post, actor=actor, reason="images changed")


@transaction.atomic
def add_media(post: Post, *, actor, data: bytes, name: str, alt_text: str) -> PostMedia:
    """Attach an image with its alt text (required) to a post that may still be edited."""
    require_perm(actor, services.PERM_CHANGE, post.unit)
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.state not in EDITABLE_STATES:
        raise InvalidTransition(_("A %(state)s post cannot be changed.") % {"state": post.get_state_display().lower()})
    alt = services._clean_text(alt_text or "", "alt_text").strip()
    if not alt:
        raise InvalidPost(_("Describe the image: alt text is required."), field="alt_text")
    if len(alt) > MAX_ALT:
        raise InvalidPost(_("The alt text is longer than %(max_alt)s characters.") % {"max_alt": MAX_ALT}, field="alt_text")
    if post.media.count() >= MAX_MEDIA:
        raise InvalidPost(_("A post carries %(max_media)s images at most.") % {"max_media": MAX_MEDIA}, field="file")
    content_type, width, height = inspect_image(data, name=name)
    base = (name.rsplit("/", 1)[-1].rsplit(".", 1)[0] or "image")[:60]
    ext = content_type.split("/")[1].replace("jpeg", "jpg")
    media = PostMedia(post=post, alt_text=alt, position=post.media.count(), content_type=content_type,
                      width=width, height=height, size=len(data))
    media.file.save(f"{base}.{ext}", ContentFile(data), save=False)
    media.thumbnail.save(f"{base}-thumb.png", ContentFile(make_thumbnail(data)), save=False)
    media.save()
    _changed(post, actor=actor)
    audit.record(actor=actor, action="publishing.post.media_add", obj=post,
                 summary=f"Added an image ({width}×{height}): {alt[:120]}", changes={"media": [None, media.pk]})
    return media


@transaction.atomic
def remove_media(media: PostMedia, *, actor) -> None:
    post = Post.objects.select_for_update().get(pk=media.post_id)
    require_perm(actor, services.PERM_CHANGE, post.unit)
    if post.state not in EDITABLE_STATES:
        raise InvalidTransition(_("A %(state)s post cannot be changed.") % {"state": post.get_state_display().lower()})
    pk = media.pk
    files = [f for f in (media.file, media.thumbnail) if f]
    media.delete()
    for f in files:
        transaction.on_commit(lambda f=f: f.storage.delete(f.name))
    _changed(post, actor=actor)
    audit.record(actor=actor, action="publishing.post.media_remove", obj=post, summary="Removed an image",
                 changes={"media": [pk, None]})
