"""Rule violations raised by ``orgs.services``; the API exception handler and the views turn them into 4xx."""

from __future__ import annotations

from dandelion.core.exceptions import ConflictError, DandelionError, PermissionDeniedError

__all__ = [
    "ConflictError",
    "DandelionError",
    "DuplicateMembership",
    "DuplicateTeam",
    "GuidelineNotEditable",
    "GuidelineNotPublished",
    "InvalidMembership",
    "InvalidMove",
    "LastHubAdmin",
    "PermissionDeniedError",
    "RootUnitError",
    "TeamNotEmpty",
    "UnitNotEmpty",
    "UsernameTaken",
]


class InvalidMove(DandelionError):
    """A unit cannot move under itself, one of its descendants, or an inactive unit."""

    code = "invalid_move"


class RootUnitError(DandelionError):
    """The root (hub) cannot be moved or deactivated, and only one root may exist."""

    code = "root_unit"


class UnitNotEmpty(ConflictError):
    """A unit with active child units cannot be deactivated."""

    code = "unit_not_empty"


class InvalidMembership(DandelionError):
    """The role, unit and team do not fit together (moderator without a team, hub admin off the root...)."""

    code = "invalid_membership"


class DuplicateMembership(ConflictError):
    """The person already holds this role on this unit (and team)."""

    code = "duplicate_membership"


class LastHubAdmin(ConflictError):
    """Revoking or demoting the last hub admin would leave the organisation without one."""

    code = "last_hub_admin"


class DuplicateTeam(ConflictError):
    """A unit already has a team of that name."""

    code = "duplicate_team"


class TeamNotEmpty(ConflictError):
    """A team with active members cannot be deactivated."""

    code = "team_not_empty"


class GuidelineNotEditable(ConflictError):
    """Published guideline versions are frozen: draft a new version instead."""

    code = "guideline_published"


class GuidelineNotPublished(ConflictError):
    """Only a published version can be acknowledged."""

    code = "guideline_not_published"


class UsernameTaken(ConflictError):
    """Inviting a person whose username (or e-mail) already exists: grant them a role instead."""

    code = "username_taken"


class InvitationNotPending(ConflictError):
    """The person has already set a password (or has no e-mail): there is no invitation to (re)send or use."""

    code = "invitation_not_pending"
