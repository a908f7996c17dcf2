from django.db import models
from django.utils.translation import gettext_lazy as _


class MentionSource(models.TextChoices):
    INBOUND = "inbound", _("Inbound message")
    FEED = "feed", _("News feed")
    SEARCH = "search", _("Network search")
    REPLAY = "replay", _("Dataset replay")
    API = "api", _("API")


class AlertState(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Sentiment(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")
