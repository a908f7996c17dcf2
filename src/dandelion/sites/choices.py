"""Choices of the websites factory."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CommentState(models.TextChoices):
    """Where a blog comment stands: shown under its post, hidden by a moderator, or deleted (kept, never shown)."""

    VISIBLE = "visible", _("Visible")
    HIDDEN = "hidden", _("Hidden")
    DELETED = "deleted", _("Deleted")
