"""Choices of the websites factory."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CommentState(models.TextChoices):
    """Where a blog comment stands: shown under its post, hidden by a moderator, or deleted (kept, never shown)."""

    VISIBLE = "visible", _("Visible")
    HIDDEN = "hidden", _("Hidden")
    DELETED = "deleted", _("Deleted")


class LinkKind(models.TextChoices):
    """A link to a page of the site itself (a path, or an address on its hostname) or to another site."""

    INTERNAL = "internal", _("Internal")
    EXTERNAL = "external", _("External")
