"""Enablement: learning paths with a quiz, certifications that expire, and the role requirement other apps enforce.

Other apps (publishing, the inbox's replies on official accounts) call :func:`require_enabled` in their services
before acting: it raises :class:`EnablementRequired`, whose message says what is missing and links to the path."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dandelion.community.exceptions import EnablementRequired, InvalidCommunityData
from dandelion.community.models import (
    Certification,
    CertificationAward,
    LearningPath,
    PathStep,
    QuizQuestion,
    RoleRequirement,
)
from dandelion.core import audit
from dandelion.core.actors import is_system
from dandelion.core.permissions import get_grants, require_perm


@dataclass(frozen=True)
class Missing:
    """One thing a person lacks: a certification (with its path) or the current guidelines' acknowledgement."""

    what: str  # "certification" | "guidelines"
    label: str
    url: str


def _valid_award(user, certification, now) -> bool:
    return CertificationAward.objects.filter(user=user, certification=certification, expires_at__gt=now).exists()


def _acknowledged_current_guidelines(user) -> bool:
    from dandelion.orgs.models import Guideline, GuidelineAcknowledgement

    current = Guideline.objects.filter(published_at__isnull=False).order_by("-version").first()
    if current is None:
        return True
    return GuidelineAcknowledgement.objects.filter(guideline=current, user=user).exists()


def missing_for(user, unit, *, now: dt.datetime | None = None) -> list[Missing]:
    """What ``user`` lacks before publishing or answering on an official account of ``unit``: the requirements of
    their roles there (a requirement set on a unit applies to its subtree)."""
    if is_system(user) or getattr(user, "is_superuser", False):
        return []
    now = now or timezone.now()
    roles = {g.role for g in get_grants(user) if unit.path.startswith(g.unit_path)}
    if not roles:
        return []
    ancestors = [p for p in {unit.path} | {unit.path[: i + 1] for i, c in enumerate(unit.path) if c == "/"} if p]
    reqs = RoleRequirement.objects.filter(role__in=roles, unit__path__in=ancestors).select_related(
        "certification__path")
    missing: list[Missing] = []
    seen: set = set()
    for req in reqs:
        cert = req.certification
        if cert is not None and cert.pk not in seen:
            seen.add(cert.pk)
            if not _valid_award(user, cert, now):
                missing.append(Missing("certification", cert.name, cert.path.get_absolute_url()))
        if req.require_guidelines and "guidelines" not in seen:
            seen.add("guidelines")
            if not _acknowledged_current_guidelines(user):
                missing.append(Missing("guidelines", _("the current social media guidelines"), "/orgs/guidelines/"))
    return missing


def require_enabled(user, unit) -> None:
    """Raise :class:`EnablementRequired` when ``user`` may not yet publish or answer for ``unit``."""
    missing = missing_for(user, unit)
    if missing:
        names = ", ".join(m.label for m in missing)
        raise EnablementRequired(
            _("Before publishing here you need: %(names)s. Follow the learning path to get there.") % {"names": names},
            path_url=missing[0].url)


# --- building and passing paths ------------------------------------------------------------------------------


def validate_quiz(questions: list[dict]) -> list[dict]:
    """Each question has text, at least two choices and at least one correct choice among them."""
    if not questions:
        raise InvalidCommunityData(_("A quiz needs at least one question."), field="quiz")
    clean = []
    for i, q in enumerate(questions, 1):
        text = (q.get("text") or "").strip()
        choices = [str(c).strip() for c in q.get("choices") or [] if str(c).strip()]
        correct = sorted({int(c) for c in q.get("correct") or []})
        if not text:
            raise InvalidCommunityData(_("Question %(i)d has no text.") % {"i": i}, field="quiz")
        if len(choices) < 2:
            raise InvalidCommunityData(_("Question %(i)d needs at least two choices.") % {"i": i}, field="quiz")
        if not correct or any(c < 0 or c >= len(choices) for c in correct):
            raise InvalidCommunityData(_("Question %(i)d has no correct answer among its choices.") % {"i": i},
                                       field="quiz")
        clean.append({"text": text[:300], "choices": choices, "correct": correct})
    return clean


@transaction.atomic
def create_learning_path(*, actor, unit, title: str, articles, quiz: list[dict], certification_name: str = "",
                         validity_days: int = 365, pass_mark: int = 80, description: str = "") -> LearningPath:
    require_perm(actor, "community.add_learningpath", unit)
    if not (title or "").strip():
        raise InvalidCommunityData(_("This field is required."), field="title")
    questions = validate_quiz(quiz)
    if not 1 <= int(pass_mark) <= 100:
        raise InvalidCommunityData(_("The pass mark is a percentage (1 to 100)."), field="pass_mark")
    path = LearningPath.objects.create(unit=unit, title=title.strip()[:200], description=description or "",
                                       pass_mark=int(pass_mark))
    for i, article in enumerate(articles):
        PathStep.objects.create(path=path, article=article, position=i)
    for i, q in enumerate(questions):
        QuizQuestion.objects.create(path=path, position=i, **q)
    Certification.objects.create(path=path, name=(certification_name or title).strip()[:150],
                                 validity_days=max(1, int(validity_days)))
    audit.record(actor=actor, action="community.path.create", obj=path, summary=f"Created learning path {path}")
    return path


@transaction.atomic
def take_quiz(path: LearningPath, *, actor, answers: dict[int, list[int]]) -> tuple[int, CertificationAward | None]:
    """Grade ``answers`` (question id → chosen indexes); at or above the pass mark, award (or renew) the path's
    certification. Returns the score (percent) and the award (None below the pass mark)."""
    require_perm(actor, "community.take_quiz")
    questions = list(path.quiz.all())
    if not questions:
        raise InvalidCommunityData(_("This path has no quiz."))
    right = sum(1 for q in questions if sorted(set(answers.get(q.pk, []))) == sorted(q.correct))
    score = round(100 * right / len(questions))
    award = None
    if score >= path.pass_mark:
        cert = path.certification
        now = timezone.now()
        award = CertificationAward.objects.create(certification=cert, user=actor, awarded_at=now, score=score,
                                                  expires_at=now + dt.timedelta(days=cert.validity_days))
    audit.record(actor=actor, action="community.quiz.take", obj=path,
                 summary=f"{actor} scored {score}% on {path}" + (" (certified)" if award else ""))
    return score, award
