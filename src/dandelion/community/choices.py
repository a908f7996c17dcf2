"""The community app's fixed vocabularies."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ArticleKind(models.TextChoices):
    BEST_PRACTICE = "best_practice", _("Best practice")
    PLAYBOOK = "playbook", _("Playbook")
    TEMPLATE = "template", _("Template")
    HOWTO = "howto", _("How-to")
    CHECKLIST = "checklist", _("Checklist")
    GUIDELINE = "guideline", _("Guideline")
    SUCCESS_STORY = "success_story", _("Success story")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class Language(models.TextChoices):
    EN = "en", _("English")
    FR = "fr", _("French")


class RegistrationStatus(models.TextChoices):
    GOING = "going", _("Going")
    WAITLISTED = "waitlisted", _("On the waiting list")
    CANCELLED = "cancelled", _("Cancelled")


class SearchKind(models.TextChoices):
    ARTICLE = "article", _("Article")
    QUESTION = "question", _("Question")
    ANSWER = "answer", _("Answer")


class ProfileVisibility(models.TextChoices):
    UNIT = "unit", _("My unit, the units below it and above it")
    GROUP = "group", _("The whole community")
