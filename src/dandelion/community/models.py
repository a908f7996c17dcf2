"""The community of community managers: the knowledge base, questions and answers, the gatherings, enablement."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dandelion.community.choices import (
    ArticleKind,
    ArticleStatus,
    Language,
    ProfileVisibility,
    RegistrationStatus,
    SearchKind,
)
from dandelion.community.scoping import CommunityQuerySet
from dandelion.core.models import TimeStampedModel
from dandelion.core.querysets import OrgScope, RestrictedManager, RestrictedQuerySet

USER = settings.AUTH_USER_MODEL


class CommunityManager(models.Manager.from_queryset(CommunityQuerySet)):  # type: ignore[misc]
    pass


# --- knowledge base ----------------------------------------------------------------------------------------------


class Tag(models.Model):
    """A label shared by articles and questions across the organisation."""

    org_scope = OrgScope.organisation_wide("labels shared by every unit's articles and questions")

    name = models.CharField(max_length=60, unique=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class ArticleQuerySet(CommunityQuerySet):
    def published(self):
        return self.filter(status=ArticleStatus.PUBLISHED)

    def stale(self, today: dt.date | None = None):
        return self.filter(review_by__lt=today or timezone.localdate())


class ArticleManager(models.Manager.from_queryset(ArticleQuerySet)):  # type: ignore[misc]
    pass


class Article(TimeStampedModel):
    """A best practice, playbook, template, how-to or checklist in Markdown. Owned by a unit: the root unit makes it
    group-wide, a spoke's unit makes it that spoke's (read by its subtree and by the units above it)."""

    org_scope = OrgScope(path="unit__path")

    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    body = models.TextField(help_text=_("Markdown."))
    kind = models.CharField(max_length=20, choices=ArticleKind.choices, default=ArticleKind.BEST_PRACTICE)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.EN)
    status = models.CharField(max_length=12, choices=ArticleStatus.choices, default=ArticleStatus.PUBLISHED)
    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="articles")
    owner = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_articles")
    tags = models.ManyToManyField(Tag, blank=True, related_name="articles")
    related = models.ManyToManyField("self", blank=True, symmetrical=True)
    review_by = models.DateField(null=True, blank=True, help_text=_("After this date the article is flagged stale."))
    version = models.PositiveIntegerField(default=1, editable=False)
    useful_count = models.PositiveIntegerField(default=0, editable=False)
    not_useful_count = models.PositiveIntegerField(default=0, editable=False)
    source_answer = models.ForeignKey("Answer", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="articles")

    objects = ArticleManager()

    class Meta:
        ordering = ("-updated_at", "-id")
        indexes = [models.Index(fields=["unit", "status"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("community:article-detail", args=[self.pk])

    @property
    def audit_unit(self):
        return self.unit

    @property
    def is_group_wide(self) -> bool:
        return self.unit.parent_id is None

    def is_stale(self, today: dt.date | None = None) -> bool:
        return self.review_by is not None and self.review_by < (today or timezone.localdate())

    @property
    def stale(self) -> bool:
        return self.is_stale()


class ArticleVersion(models.Model):
    """The article as it was at one version (each edit keeps the previous text)."""

    org_scope = OrgScope(path="article__unit__path")

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    author = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    change_note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = CommunityManager()

    class Meta:
        ordering = ("article", "-number")
        constraints = [models.UniqueConstraint(fields=["article", "number"], name="uniq_article_version")]

    def __str__(self) -> str:
        return f"{self.article} v{self.number}"


class ArticleFeedback(models.Model):
    """One person's "was this useful?" on one article (their latest answer counts)."""

    org_scope = OrgScope(path="article__unit__path")

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="article_feedback")
    useful = models.BooleanField()
    comment = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = CommunityManager()

    class Meta:
        ordering = ("-created_at",)
        constraints = [models.UniqueConstraint(fields=["article", "user"], name="uniq_article_feedback")]

    def __str__(self) -> str:
        return f"{self.user} on {self.article}: {'useful' if self.useful else 'not useful'}"


# --- questions and answers -----------------------------------------------------------------------------------------


class Question(TimeStampedModel):
    """A question any member asks the whole community."""

    org_scope = OrgScope.organisation_wide("the community's questions are asked of everyone in the organisation")

    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, help_text=_("Markdown."))
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.EN)
    asker = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="community_questions")
    addressed_to = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="community_questions_to_me",
                                     help_text=_("The expert asked (“ask an expert”); the whole community "
                                                 "still sees the question and may answer."))
    tags = models.ManyToManyField(Tag, blank=True, related_name="questions")
    accepted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = RestrictedManager()

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("community:question-detail", args=[self.pk])

    @property
    def is_answered(self) -> bool:
        return self.accepted_at is not None


class Answer(TimeStampedModel):
    """One member's answer; the asker accepts at most one."""

    org_scope = OrgScope.organisation_wide("answers are read with their question, by everyone")

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    author = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="community_answers")
    body = models.TextField(help_text=_("Markdown."))
    is_accepted = models.BooleanField(default=False, editable=False)

    objects = RestrictedManager()

    class Meta:
        ordering = ("-is_accepted", "created_at", "id")
        constraints = [models.UniqueConstraint(fields=["question"], condition=models.Q(is_accepted=True),
                                               name="uniq_accepted_answer")]

    def __str__(self) -> str:
        return f"Answer to {self.question}"

    def get_absolute_url(self) -> str:
        return self.question.get_absolute_url() + f"#answer-{self.pk}"


# --- search --------------------------------------------------------------------------------------------------------


class SearchEntry(models.Model):
    """What the search reads: one row per published article, question and answer, kept by the services.

    ``document`` is PostgreSQL's tsvector (built with the row's language configuration); on SQLite the text is
    indexed by the FTS5 table ``community_search_fts`` (rowid = this id) instead. ``unit_path`` is the owning
    unit's path for articles (scoping), empty for the organisation-wide questions and answers."""

    org_scope = OrgScope.internal("the search index, read only through community.search, which applies the scope")

    kind = models.CharField(max_length=10, choices=SearchKind.choices)
    object_id = models.PositiveBigIntegerField()
    language = models.CharField(max_length=2, default="en")
    unit_path = models.CharField(max_length=255, blank=True, db_index=True)
    title = models.CharField(max_length=200)
    body = models.TextField()
    url = models.CharField(max_length=300)
    document = SearchVectorField(null=True, editable=False)
    title_document = SearchVectorField(null=True, editable=False)

    objects = RestrictedManager()

    class Meta:
        ordering = ("kind", "object_id")
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="uniq_search_entry")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}: {self.title}"


# --- gatherings ----------------------------------------------------------------------------------------------------


class Gathering(TimeStampedModel):
    """A regular gathering of the community (in a place, online, or both), with a capacity and a waiting list."""

    org_scope = OrgScope(path="unit__path")

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text=_("Markdown."))
    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="gatherings")
    organiser = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    place = models.CharField(max_length=300, blank=True)
    online_url = models.URLField(max_length=500, blank=True)
    capacity = models.PositiveIntegerField(default=50)
    is_cancelled = models.BooleanField(default=False)
    open_to_guests = models.BooleanField(
        default=False, help_text=_("People without an account may register by e-mail (with a confirmation link)."))
    series_key = models.CharField(max_length=36, blank=True, db_index=True, editable=False,
                                  help_text=_("Shared by the gatherings of one recurring series."))

    objects = CommunityManager()

    class Meta:
        ordering = ("-starts_at", "-id")
        constraints = [
            models.CheckConstraint(condition=models.Q(capacity__gte=1), name="gathering_capacity_positive"),
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                   name="gathering_ends_after_start"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("community:gathering-detail", args=[self.pk])

    @property
    def audit_unit(self):
        return self.unit

    @property
    def is_past(self) -> bool:
        return self.ends_at < timezone.now()


class Speaker(models.Model):
    """A speaker at a gathering: a member, or an invited guest from outside."""

    org_scope = OrgScope(path="gathering__unit__path")

    gathering = models.ForeignKey(Gathering, on_delete=models.CASCADE, related_name="speakers")
    user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=150)
    affiliation = models.CharField(max_length=150, blank=True)
    bio = models.TextField(blank=True)
    is_guest = models.BooleanField(default=False)

    objects = CommunityManager()

    class Meta:
        ordering = ("gathering", "name")

    def __str__(self) -> str:
        return self.name


class AgendaItem(models.Model):
    """One slot of a gathering's agenda."""

    org_scope = OrgScope(path="gathering__unit__path")

    gathering = models.ForeignKey(Gathering, on_delete=models.CASCADE, related_name="agenda")
    starts_at = models.DateTimeField()
    title = models.CharField(max_length=200)
    speaker = models.ForeignKey(Speaker, null=True, blank=True, on_delete=models.SET_NULL, related_name="slots")

    objects = CommunityManager()

    class Meta:
        ordering = ("gathering", "starts_at", "id")

    def __str__(self) -> str:
        return self.title


class Registration(models.Model):
    """A person's place at a gathering, or their position on the waiting list (first come, first promoted)."""

    org_scope = OrgScope(path="gathering__unit__path")

    gathering = models.ForeignKey(Gathering, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="gathering_registrations")
    status = models.CharField(max_length=12, choices=RegistrationStatus.choices)
    registered_at = models.DateTimeField(default=timezone.now)
    promoted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    attended = models.BooleanField(null=True, blank=True)

    objects = CommunityManager()

    class Meta:
        ordering = ("gathering", "registered_at", "id")
        constraints = [models.UniqueConstraint(fields=["gathering", "user"], name="uniq_gathering_registration")]

    def __str__(self) -> str:
        return f"{self.user} at {self.gathering} ({self.status})"

    @property
    def audit_unit(self):
        return self.gathering.unit


class Material(models.Model):
    """The slides and notes attached to a gathering afterwards (a link, or an uploaded file)."""

    org_scope = OrgScope(path="gathering__unit__path")

    gathering = models.ForeignKey(Gathering, on_delete=models.CASCADE, related_name="materials")
    title = models.CharField(max_length=200)
    url = models.URLField(max_length=500, blank=True)
    file = models.FileField(upload_to="community/materials/%Y/%m/", blank=True)
    added_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    objects = CommunityManager()

    class Meta:
        ordering = ("gathering", "added_at")

    def __str__(self) -> str:
        return self.title


class GuestRegistration(models.Model):
    """An outside guest (no Dandelion account) registered by e-mail for a gathering open to guests. ``confirmed_at``
    is set when they follow the signed link mailed to them; only confirmed guests take a place."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        GOING = "going", _("Going")
        CANCELLED = "cancelled", _("Cancelled")

    org_scope = OrgScope(path="gathering__unit__path")

    gathering = models.ForeignKey(Gathering, on_delete=models.CASCADE, related_name="guests")
    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=150)
    affiliation = models.CharField(max_length=150, blank=True)
    language = models.CharField(max_length=10, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    objects = CommunityManager()

    class Meta:
        ordering = ("gathering", "created_at", "id")
        constraints = [models.UniqueConstraint(fields=["gathering", "email"], name="uniq_gathering_guest")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}> at {self.gathering} ({self.status})"

    @property
    def audit_unit(self):
        return self.gathering.unit


class ReminderSent(models.Model):
    """The claim of one reminder e-mail for one registration (a member's or a confirmed guest's): the unique ``key``
    makes the reminder job send it exactly once, however often and on however many workers it runs."""

    org_scope = OrgScope(path="gathering__unit__path")

    key = models.CharField(max_length=60, unique=True)  # "r:<registration id>:<kind>" or "g:<guest id>:<kind>"
    gathering = models.ForeignKey(Gathering, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8)
    recipient = models.EmailField(max_length=254)
    sent_at = models.DateTimeField(default=timezone.now)

    objects = CommunityManager()

    class Meta:
        ordering = ("-sent_at",)

    def __str__(self) -> str:
        return self.key


class GuestAccount(models.Model):
    """The flag of an invited outsider's login (a speaker or an outside attendee): a user with no role anywhere whose
    only access is through their :class:`GuestGrant` rows, each limited to one gathering's page and materials
    (enforced for every URL by :class:`dandelion.community.middleware.GuestAccessMiddleware`)."""

    org_scope = OrgScope.internal("a login flag, read by the guest middleware and the guest services only")

    user = models.OneToOneField(USER, on_delete=models.CASCADE, related_name="community_guest")
    language = models.CharField(max_length=10, blank=True)
    invited_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True, help_text=_("When the guest set their password."))

    objects = RestrictedManager()

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"guest {self.user}"


class GuestGrant(models.Model):
    """One guest's access to one gathering (its page, its .ics, its materials) until ``expires_at``."""

    class Role(models.TextChoices):
        SPEAKER = "speaker", _("Speaker")
        ATTENDEE = "attendee", _("Outside attendee")

    org_scope = OrgScope(path="gathering__unit__path")

    account = models.ForeignKey(GuestAccount, on_delete=models.CASCADE, related_name="grants")
    gathering = models.ForeignKey(Gathering, on_delete=models.CASCADE, related_name="guest_grants")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.SPEAKER)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = CommunityManager()

    class Meta:
        ordering = ("gathering", "created_at")
        constraints = [models.UniqueConstraint(fields=["account", "gathering"], name="uniq_guest_grant")]

    def __str__(self) -> str:
        return f"{self.account.user} at {self.gathering} ({self.role})"

    @property
    def audit_unit(self):
        return self.gathering.unit

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class DigestSent(models.Model):
    """The claim of one member's weekly digest for one ISO week (``week`` = "2026-W49"): unique per member and week,
    inserted in the transaction that sends it, so the digest job sends each at most once however often it runs."""

    org_scope = OrgScope.internal("the digest job's claims, never read through a page")

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    week = models.CharField(max_length=10)
    items = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()

    class Meta:
        ordering = ("-sent_at",)
        constraints = [models.UniqueConstraint(fields=["user", "week"], name="uniq_digest_week")]

    def __str__(self) -> str:
        return f"{self.user} {self.week}"


# --- enablement ----------------------------------------------------------------------------------------------------


class LearningPath(TimeStampedModel):
    """Articles to read in order, then a short quiz; passing it awards the path's certification."""

    org_scope = OrgScope(path="unit__path")

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="learning_paths")
    articles = models.ManyToManyField(Article, through="PathStep", related_name="learning_paths")
    pass_mark = models.PositiveSmallIntegerField(default=80, help_text=_("Percentage of right answers to pass."))

    objects = CommunityManager()

    class Meta:
        ordering = ("title",)

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("community:path-detail", args=[self.pk])

    @property
    def audit_unit(self):
        return self.unit


class PathStep(models.Model):
    """One article of a learning path, at its position."""

    org_scope = OrgScope(path="path__unit__path")

    path = models.ForeignKey(LearningPath, on_delete=models.CASCADE, related_name="steps")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    objects = CommunityManager()

    class Meta:
        ordering = ("path", "position", "id")

    def __str__(self) -> str:
        return f"{self.path} #{self.position}: {self.article}"


class QuizQuestion(models.Model):
    """A multiple-choice question of a path's quiz; ``correct`` lists the indexes of the right choices (≥ 1)."""

    org_scope = OrgScope(path="path__unit__path")

    path = models.ForeignKey(LearningPath, on_delete=models.CASCADE, related_name="quiz")
    text = models.CharField(max_length=300)
    choices = models.JSONField(default=list)
    correct = models.JSONField(default=list)
    position = models.PositiveSmallIntegerField(default=0)

    objects = CommunityManager()

    class Meta:
        ordering = ("path", "position", "id")

    def __str__(self) -> str:
        return self.text


class Certification(models.Model):
    """What passing a path earns, valid for ``validity_days``."""

    org_scope = OrgScope.organisation_wide("certifications are known across the organisation (the hub sees who "
                                           "holds which)")

    name = models.CharField(max_length=150, unique=True)
    path = models.OneToOneField(LearningPath, on_delete=models.CASCADE, related_name="certification")
    validity_days = models.PositiveIntegerField(default=365)

    objects = RestrictedManager()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class CertificationAward(models.Model):
    """One person's certification, until it expires."""

    org_scope = OrgScope.organisation_wide("who is certified is read across the organisation by the hub and spokes")

    certification = models.ForeignKey(Certification, on_delete=models.CASCADE, related_name="awards")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="certifications")
    awarded_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    score = models.PositiveSmallIntegerField(default=0)

    objects = RestrictedManager()

    class Meta:
        ordering = ("-awarded_at",)

    def __str__(self) -> str:
        return f"{self.user}: {self.certification} until {self.expires_at:%Y-%m-%d}"

    @property
    def is_valid(self) -> bool:
        return self.expires_at > timezone.now()


class RoleRequirement(models.Model):
    """What a role on a unit (and its subtree) needs before publishing or answering on an official account."""

    org_scope = OrgScope(path="unit__path")

    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.CASCADE, related_name="role_requirements")
    role = models.CharField(max_length=30)
    certification = models.ForeignKey(Certification, null=True, blank=True, on_delete=models.CASCADE,
                                      related_name="requirements")
    require_guidelines = models.BooleanField(default=True)

    objects = CommunityManager()

    class Meta:
        ordering = ("unit", "role")

    def __str__(self) -> str:
        return f"{self.role} on {self.unit}: {self.certification or '-'}"


# --- the members directory ------------------------------------------------------------------------------------------


class MemberProfileQuerySet(CommunityQuerySet):
    def restrict(self, user, action: str = "view"):
        """Reads: the profiles of the person's subtree and of the units above (the community rule), plus the
        profiles their owner opened to the whole community, for anyone who reads the directory at all. Fail closed:
        no grant that reads profiles, no row. Other actions: the standard rule."""
        if action not in ("view", "community.view_memberprofile"):
            return super().restrict(user, action)
        from dandelion.community.scoping import community_read_q
        from dandelion.core.permissions import has_perm

        q = community_read_q(user, self.model, "unit__path", "community.view_memberprofile")
        if q is None:
            return self
        if has_perm(user, "community.view_memberprofile"):
            q |= models.Q(visibility=ProfileVisibility.GROUP)
        return self.filter(q)


class MemberProfileManager(models.Manager.from_queryset(MemberProfileQuerySet)):  # type: ignore[misc]
    pass


class MemberProfile(models.Model):
    """A community manager's entry in the members directory: what they run, in which unit, what they know
    (networks, languages, skills) and how to reach them; ``open_to_questions`` puts them in "ask an expert"."""

    org_scope = OrgScope(path="unit__path")

    user = models.OneToOneField(USER, on_delete=models.CASCADE, related_name="community_profile")
    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="member_profiles",
                             help_text=_("The unit the person works for."))
    headline = models.CharField(max_length=200, blank=True, help_text=_("What you run, in a sentence."))
    bio = models.TextField(blank=True, max_length=4000)
    networks = models.JSONField(default=list, blank=True)
    languages = models.JSONField(default=list, blank=True, help_text=_("ISO 639-1 codes."))
    skills = models.JSONField(default=list, blank=True)
    contact_email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    chat = models.CharField(max_length=150, blank=True, help_text=_("A chat handle or channel."))
    open_to_questions = models.BooleanField(default=True, help_text=_("Listed in “ask an expert”."))
    visibility = models.CharField(max_length=10, choices=ProfileVisibility.choices, default=ProfileVisibility.UNIT)
    weekly_digest = models.BooleanField(default=True, help_text=_("Receive the community's weekly digest e-mail."))
    search_text = models.TextField(blank=True, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = MemberProfileManager()

    class Meta:
        ordering = ("user__username",)

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    def get_absolute_url(self) -> str:
        return reverse("community:member-detail", args=[self.pk])

    @property
    def audit_unit(self):
        return self.unit


__all__ = [
    "AgendaItem",
    "Answer",
    "Article",
    "ArticleFeedback",
    "ArticleVersion",
    "Certification",
    "CertificationAward",
    "DigestSent",
    "Gathering",
    "GuestAccount",
    "GuestGrant",
    "LearningPath",
    "Material",
    "MemberProfile",
    "PathStep",
    "Question",
    "QuizQuestion",
    "Registration",
    "RestrictedQuerySet",
    "RoleRequirement",
    "SearchEntry",
    "Speaker",
    "Tag",
]
