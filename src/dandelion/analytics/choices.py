from django.db import models
from django.utils.translation import gettext_lazy as _


class StoryStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted to the hub")
    FEATURED = "featured", _("Featured by the hub")


class StoryTheme(models.TextChoices):
    RESPONSIVENESS = "responsiveness", _("Responsiveness")
    MODERATION = "moderation", _("Moderation")
    ENGAGEMENT = "engagement", _("Engagement")
    CRISIS = "crisis", _("Crisis handling")
    OTHER = "other", _("Other")


class BlockGrain(models.TextChoices):
    """The time grain of a pre-merged rollup block."""

    DAY = "day", _("Day")
    WEEK = "week", _("Week (Monday to Sunday)")


class DigestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed (retried)")


class FollowerBand(models.TextChoices):
    """Audience-size peer groups of the leaderboard."""

    UNDER_1K = "<1k", _("under 1k followers")
    K1_10 = "1k-10k", _("1k to 10k followers")
    K10_100 = "10k-100k", _("10k to 100k followers")
    K100_1M = "100k-1M", _("100k to 1M followers")
    OVER_1M = "1M+", _("1M followers and more")


def follower_band(followers: int) -> str:
    if followers < 1_000:
        return FollowerBand.UNDER_1K
    if followers < 10_000:
        return FollowerBand.K1_10
    if followers < 100_000:
        return FollowerBand.K10_100
    if followers < 1_000_000:
        return FollowerBand.K100_1M
    return FollowerBand.OVER_1M
