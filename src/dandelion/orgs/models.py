"""The organisation: a tree of units (hub → regions → countries/BUs/agencies/vendors), teams, memberships
(a role granted on a unit covers its subtree) and versioned social media guidelines with acknowledgements."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from dandelion.core.models import TimeStampedModel
from dandelion.core.querysets import OrgScope, RestrictedManager
from dandelion.orgs.choices import Role, TeamKind, UnitKind


class OrgUnit(TimeStampedModel):
    """A node of the organisation tree. ``path`` is the materialised path of ids (``/1/4/9/``): a subtree is
    ``path__startswith``, portable to every database."""

    org_scope = OrgScope(path="path")

    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=20, choices=UnitKind.choices, default=UnitKind.COUNTRY)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2, for country units.")
    languages = models.JSONField(default=list, blank=True, help_text="ISO 639-1 codes spoken in this unit.")
    timezone = models.CharField(max_length=64, default="UTC")
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    is_active = models.BooleanField(default=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ("path",)
        verbose_name = "org unit"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("orgs:unit-detail", args=[self.pk])

    @property
    def audit_unit(self) -> OrgUnit:
        return self

    @property
    def is_root(self) -> bool:
        return self.parent_id is None

    def compute_path(self) -> str:
        return f"{self.parent.path if self.parent_id else '/'}{self.pk}/"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        path = self.compute_path()
        depth = path.count("/") - 2
        if path != self.path or depth != self.depth:
            self.path, self.depth = path, depth
            OrgUnit.objects.filter(pk=self.pk).update(path=path, depth=depth)

    def descendants(self, include_self: bool = True):
        qs = OrgUnit.objects.filter(path__startswith=self.path)
        return qs if include_self else qs.exclude(pk=self.pk)

    def ancestors(self, include_self: bool = True):
        ids = [int(p) for p in self.path.strip("/").split("/") if p]
        if not include_self:
            ids = ids[:-1]
        return OrgUnit.objects.filter(pk__in=ids).order_by("depth")

    def is_descendant_of(self, other: OrgUnit) -> bool:
        return self.path.startswith(other.path)


class Team(TimeStampedModel):
    """A team of a unit: community managers, customer helpers, an external moderation vendor's team, PR, analysts.

    ``languages`` are the languages the team answers in (routing uses them); ``timezone`` and business hours are
    the team's own for SLA clocks."""

    org_scope = OrgScope(path="unit__path", team="id")

    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=TeamKind.choices)
    languages = models.JSONField(default=list, blank=True, help_text="ISO 639-1 codes the team answers in.")
    timezone = models.CharField(max_length=64, blank=True, help_text="Defaults to the unit's time zone.")
    email = models.EmailField(blank=True)
    is_active = models.BooleanField(default=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ("unit__path", "name")
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="uniq_team_name_per_unit")]

    def __str__(self) -> str:
        return f"{self.name} ({self.unit.name})"

    def get_absolute_url(self) -> str:
        return reverse("orgs:team-detail", args=[self.pk])

    @property
    def audit_unit(self) -> OrgUnit:
        return self.unit

    @property
    def effective_timezone(self) -> str:
        return self.timezone or self.unit.timezone


class Membership(TimeStampedModel):
    """A person's role on a unit (and its subtree), optionally within one of the unit's teams.

    External moderators must belong to a team: they see only what is routed to that team."""

    org_scope = OrgScope(path="unit__path", team="team_id")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="memberships")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=30, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    is_available = models.BooleanField(default=True, help_text="Available for automatic assignment.")
    capacity = models.PositiveSmallIntegerField(default=10, help_text="Open conversations at most (assignment).")

    objects = RestrictedManager()

    class Meta:
        ordering = ("unit__path", "user__username")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role", "team"], name="uniq_membership"),
        ]

    def __str__(self) -> str:
        team = f" / {self.team.name}" if self.team_id else ""
        return f"{self.user.get_username()}: {self.get_role_display()} on {self.unit.name}{team}"

    def get_absolute_url(self) -> str:
        return reverse("orgs:unit-detail", args=[self.unit_id])

    @property
    def audit_unit(self) -> OrgUnit:
        return self.unit


class Guideline(TimeStampedModel):
    """One version of the social media guidelines (markdown), published by the hub. The newest published
    version is current; every active member is asked to acknowledge it.

    A draft has no ``version``; publishing assigns the next number and freezes the text (edit = a new draft)."""

    org_scope = OrgScope.organisation_wide("the hub's guidelines are read by everyone in the organisation")

    title = models.CharField(max_length=200)
    version = models.PositiveIntegerField(unique=True, null=True, blank=True, editable=False,
                                          help_text="Assigned when published; empty for drafts.")
    body = models.TextField(help_text="Markdown.")
    change_summary = models.CharField(max_length=300, blank=True)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedManager()

    class Meta:
        ordering = (models.F("version").desc(nulls_first=True), "-created_at")

    def __str__(self) -> str:
        return f"{self.title} v{self.version}" if self.version else f"{self.title} (draft)"

    def get_absolute_url(self) -> str:
        return reverse("orgs:guideline-detail", args=[self.pk])

    @property
    def audit_unit(self):
        return None

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @classmethod
    def current(cls) -> Guideline | None:
        """The newest published version (the one everybody is asked to acknowledge)."""
        return cls.objects.filter(published_at__isnull=False).order_by("-version").first()


class GuidelineAcknowledgement(models.Model):
    """A person acknowledged having read a guideline version."""

    org_scope = OrgScope.organisation_wide("read with the guideline; the reports list people through memberships")

    guideline = models.ForeignKey(Guideline, on_delete=models.CASCADE, related_name="acknowledgements")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="acknowledgements")
    acknowledged_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ("-acknowledged_at",)
        constraints = [models.UniqueConstraint(fields=["guideline", "user"], name="uniq_acknowledgement")]

    def __str__(self) -> str:
        return f"{self.user.get_username()} acknowledged {self.guideline}"
