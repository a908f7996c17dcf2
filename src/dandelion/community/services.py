"""Every write of the community app. Keyword-only ``actor``, one transaction, a permission check on the row's unit
(or anywhere for the organisation-wide questions and answers), one audit row, events on commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dandelion.community import search as search_index
from dandelion.community.choices import ArticleStatus, Language, RegistrationStatus, SearchKind
from dandelion.community.exceptions import AlreadyRegistered, InvalidCommunityData
from dandelion.community.models import (
    AgendaItem,
    Answer,
    Article,
    ArticleFeedback,
    ArticleVersion,
    Gathering,
    Question,
    Registration,
    Speaker,
    Tag,
)
from dandelion.core import audit
from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.permissions import has_perm, require_perm

ARTICLE_FIELDS = ("title", "summary", "body", "kind", "language", "status", "unit", "owner", "review_by")
GATHERING_FIELDS = ("title", "description", "unit", "starts_at", "ends_at", "place", "online_url", "capacity",
                    "is_cancelled")
MAX_BODY = 200_000


def _clean_text(value: str | None, field: str, *, required: bool = True, max_len: int = MAX_BODY) -> str:
    text = (value or "").replace("\x00", "").strip()
    if required and not text:
        raise InvalidCommunityData(_("This field is required."), field=field)
    if len(text) > max_len:
        raise InvalidCommunityData(_("At most %(n)d characters.") % {"n": max_len}, field=field)
    return text


def _check_language(language: str) -> str:
    if language not in Language.values:
        raise InvalidCommunityData(_("Unknown language %(l)r.") % {"l": language}, field="language")
    return language


def _set_tags(obj, names: Iterable[str] | None) -> None:
    if names is None:
        return
    clean = []
    for name in names:
        name = (name or "").strip().lower()[:60]
        if name and name not in clean:
            clean.append(name)
    tags = [Tag.objects.get_or_create(name=n)[0] for n in clean[:20]]
    obj.tags.set(tags)


def _index_article(article: Article) -> None:
    if article.status == ArticleStatus.PUBLISHED:
        search_index.index_entry(kind=SearchKind.ARTICLE, object_id=article.pk, title=article.title,
                                 body=f"{article.summary}\n{article.body}", url=article.get_absolute_url(),
                                 language=article.language, unit_path=article.unit.path)
    else:
        search_index.remove_entry(kind=SearchKind.ARTICLE, object_id=article.pk)


# --- articles ----------------------------------------------------------------------------------------------------


@transaction.atomic
def create_article(*, actor, unit, title: str, body: str, summary: str = "", kind: str = "best_practice",
                   language: str = "en", status: str = ArticleStatus.PUBLISHED, owner=None,
                   review_by: dt.date | None = None, tags: Iterable[str] | None = None,
                   related: Iterable[Article] | None = None, source_answer: Answer | None = None) -> Article:
    """Write an article for ``unit`` (the root unit: group-wide). Its first version is kept."""
    require_perm(actor, "community.add_article", unit)
    article = Article(
        unit=unit, title=_clean_text(title, "title", max_len=200), body=_clean_text(body, "body"),
        summary=_clean_text(summary, "summary", required=False, max_len=300), kind=kind,
        language=_check_language(language), status=status, review_by=review_by, source_answer=source_answer,
        owner=owner if owner is not None else (actor if getattr(actor, "pk", None) else None),
    )
    article.save()
    _set_tags(article, tags)
    if related:
        article.related.set([a for a in related if a.pk != article.pk])
    ArticleVersion.objects.create(article=article, number=1, title=article.title, body=article.body,
                                  author=actor if getattr(actor, "pk", None) else None,
                                  change_note=_("First version"))
    _index_article(article)
    audit.record(actor=actor, action="community.article.create", obj=article,
                 summary=f"Wrote article {article.title}",
                 changes=audit.diff({}, audit.snapshot(article, ARTICLE_FIELDS)))
    return article


@transaction.atomic
def update_article(article: Article, *, actor, change_note: str = "", tags: Iterable[str] | None = None,
                   related: Iterable[Article] | None = None, **changes: Any) -> Article:
    """Change an article; a change of title or body makes a new version (the previous text stays readable)."""
    require_perm(actor, "community.change_article", article.unit)
    unknown = set(changes) - set(ARTICLE_FIELDS)
    if unknown:
        raise InvalidCommunityData(_("Cannot change %(f)s here.") % {"f": ", ".join(sorted(unknown))},
                                   field=min(unknown))
    if "unit" in changes and changes["unit"] != article.unit:
        require_perm(actor, "community.add_article", changes["unit"])
    before = audit.snapshot(article, ARTICLE_FIELDS)
    if "title" in changes:
        changes["title"] = _clean_text(changes["title"], "title", max_len=200)
    if "body" in changes:
        changes["body"] = _clean_text(changes["body"], "body")
    if "language" in changes:
        _check_language(changes["language"])
    text_changed = any(k in changes and changes[k] != getattr(article, k) for k in ("title", "body"))
    for key, value in changes.items():
        setattr(article, key, value)
    if text_changed:
        article.version += 1
    article.save()
    if text_changed:
        ArticleVersion.objects.create(article=article, number=article.version, title=article.title,
                                      body=article.body, author=actor if getattr(actor, "pk", None) else None,
                                      change_note=(change_note or "")[:300])
    _set_tags(article, tags)
    if related is not None:
        article.related.set([a for a in related if a.pk != article.pk])
    _index_article(article)
    audit.record(actor=actor, action="community.article.update", obj=article,
                 summary=f"Changed article {article.title} (v{article.version})",
                 changes=audit.diff(before, audit.snapshot(article, ARTICLE_FIELDS)))
    return article


@transaction.atomic
def archive_article(article: Article, *, actor) -> Article:
    """Take the article out of the knowledge base and the search (its versions stay)."""
    return update_article(article, actor=actor, status=ArticleStatus.ARCHIVED)


@transaction.atomic
def give_feedback(article: Article, *, actor, useful: bool, comment: str = "") -> ArticleFeedback:
    """Record (or change) ``actor``'s "was this useful?" on the article and keep the counts."""
    require_perm(actor, "community.add_articlefeedback")
    feedback, created = ArticleFeedback.objects.select_for_update().get_or_create(
        article=article, user=actor, defaults={"useful": bool(useful), "comment": (comment or "")[:500]})
    if not created:
        feedback.useful, feedback.comment = bool(useful), (comment or "")[:500]
        feedback.created_at = timezone.now()
        feedback.save()
    counts = ArticleFeedback.objects.filter(article=article).aggregate(
        yes=Count("id", filter=Q(useful=True)), no=Count("id", filter=Q(useful=False)))
    Article.objects.filter(pk=article.pk).update(useful_count=counts["yes"], not_useful_count=counts["no"])
    article.useful_count, article.not_useful_count = counts["yes"], counts["no"]
    audit.record(actor=actor, action="community.article.feedback", obj=article,
                 summary=f"{'Useful' if useful else 'Not useful'}: {article.title}")
    return feedback


# --- questions and answers ------------------------------------------------------------------------------------


@transaction.atomic
def ask_question(*, actor, title: str, body: str = "", language: str = "en",
                 tags: Iterable[str] | None = None) -> Question:
    require_perm(actor, "community.add_question")
    question = Question.objects.create(title=_clean_text(title, "title", max_len=200),
                                       body=_clean_text(body, "body", required=False),
                                       language=_check_language(language), asker=actor)
    _set_tags(question, tags)
    search_index.index_entry(kind=SearchKind.QUESTION, object_id=question.pk, title=question.title,
                             body=question.body, url=question.get_absolute_url(), language=question.language)
    audit.record(actor=actor, action="community.question.create", obj=question, summary=f"Asked {question.title}")
    return question


@transaction.atomic
def answer_question(question: Question, *, actor, body: str) -> Answer:
    require_perm(actor, "community.add_answer")
    answer = Answer.objects.create(question=question, author=actor, body=_clean_text(body, "body"))
    search_index.index_entry(kind=SearchKind.ANSWER, object_id=answer.pk, title=question.title, body=answer.body,
                             url=answer.get_absolute_url(), language=question.language)
    audit.record(actor=actor, action="community.answer.create", obj=answer, summary=f"Answered {question.title}")
    return answer


def may_accept(user, question: Question) -> bool:
    """The asker accepts; a community moderator (who may change questions) too."""
    return bool(getattr(user, "pk", None) and question.asker_id == user.pk) or has_perm(
        user, "community.change_question")


@transaction.atomic
def accept_answer(answer: Answer, *, actor) -> Answer:
    """Make ``answer`` its question's accepted one (any earlier accepted answer steps back)."""
    question = Question.objects.select_for_update().get(pk=answer.question_id)
    if not may_accept(actor, question):
        raise PermissionDeniedError(_("Only the person who asked may accept an answer."))
    Answer.objects.filter(question=question, is_accepted=True).exclude(pk=answer.pk).update(is_accepted=False)
    Answer.objects.filter(pk=answer.pk).update(is_accepted=True)
    answer.is_accepted = True
    Question.objects.filter(pk=question.pk).update(accepted_at=timezone.now())
    audit.record(actor=actor, action="community.answer.accept", obj=answer,
                 summary=f"Accepted an answer to {question.title}")
    return answer


@transaction.atomic
def answer_to_article(answer: Answer, *, actor, unit, title: str = "", kind: str = "howto") -> Article:
    """Turn a good answer into an article of ``unit`` (its question as the title unless one is given)."""
    question = answer.question
    body = answer.body
    if question.body:
        body = f"> {question.body.strip()}\n\n{body}"
    return create_article(actor=actor, unit=unit, title=title or question.title, body=body, kind=kind,
                          language=question.language, source_answer=answer,
                          tags=list(question.tags.values_list("name", flat=True)))


# --- gatherings ------------------------------------------------------------------------------------------------


def _check_gathering(starts_at, ends_at, capacity) -> None:
    if capacity is None or int(capacity) < 1:
        raise InvalidCommunityData(_("The capacity must be at least 1."), field="capacity")
    if starts_at is None or ends_at is None:
        raise InvalidCommunityData(_("A start and an end are required."), field="starts_at")
    if ends_at <= starts_at:
        raise InvalidCommunityData(_("The gathering must end after it starts."), field="ends_at")


@transaction.atomic
def create_gathering(*, actor, unit, title: str, starts_at, ends_at, capacity: int = 50, description: str = "",
                     place: str = "", online_url: str = "", speakers: Iterable[dict] = (),
                     agenda: Iterable[dict] = ()) -> Gathering:
    """Plan a gathering of ``unit``'s community. ``speakers``: ``{"name", "affiliation", "bio", "is_guest", "user"}``;
    ``agenda``: ``{"starts_at", "title", "speaker"}`` (the speaker by name)."""
    require_perm(actor, "community.add_gathering", unit)
    _check_gathering(starts_at, ends_at, capacity)
    if not (place or online_url):
        raise InvalidCommunityData(_("Give a place, a link, or both."), field="place")
    gathering = Gathering.objects.create(
        unit=unit, title=_clean_text(title, "title", max_len=200), starts_at=starts_at, ends_at=ends_at,
        capacity=int(capacity), description=_clean_text(description, "description", required=False),
        place=(place or "")[:300], online_url=online_url or "", organiser=actor if getattr(actor, "pk", None) else None)
    by_name = {}
    for s in speakers:
        speaker = Speaker.objects.create(gathering=gathering, name=_clean_text(s.get("name"), "speakers", max_len=150),
                                         affiliation=(s.get("affiliation") or "")[:150], bio=s.get("bio") or "",
                                         is_guest=bool(s.get("is_guest")), user=s.get("user"))
        by_name[speaker.name] = speaker
    for item in agenda:
        at = item.get("starts_at")
        if at is None or not (starts_at <= at <= ends_at):
            raise InvalidCommunityData(_("Each agenda slot starts during the gathering."), field="agenda")
        AgendaItem.objects.create(gathering=gathering, starts_at=at,
                                  title=_clean_text(item.get("title"), "agenda", max_len=200),
                                  speaker=by_name.get(item.get("speaker") or ""))
    audit.record(actor=actor, action="community.gathering.create", obj=gathering,
                 summary=f"Planned {gathering.title}",
                 changes=audit.diff({}, audit.snapshot(gathering, GATHERING_FIELDS)))
    return gathering


@transaction.atomic
def update_gathering(gathering: Gathering, *, actor, **changes: Any) -> Gathering:
    require_perm(actor, "community.change_gathering", gathering.unit)
    unknown = set(changes) - set(GATHERING_FIELDS)
    if unknown:
        raise InvalidCommunityData(_("Cannot change %(f)s here.") % {"f": ", ".join(sorted(unknown))},
                                   field=min(unknown))
    before = audit.snapshot(gathering, GATHERING_FIELDS)
    gathering = Gathering.objects.select_for_update().get(pk=gathering.pk)
    _check_gathering(changes.get("starts_at", gathering.starts_at), changes.get("ends_at", gathering.ends_at),
                     changes.get("capacity", gathering.capacity))
    for key, value in changes.items():
        setattr(gathering, key, value)
    gathering.save()
    _fill_places(gathering)
    audit.record(actor=actor, action="community.gathering.update", obj=gathering, summary=f"Changed {gathering}",
                 changes=audit.diff(before, audit.snapshot(gathering, GATHERING_FIELDS)))
    return gathering


def _fill_places(gathering: Gathering) -> list[Registration]:
    """Promote the waiting list, first come first served, while there are places (the gathering row is locked)."""
    going = Registration.objects.filter(gathering=gathering, status=RegistrationStatus.GOING).count()
    free = gathering.capacity - going
    if free <= 0:
        return []
    promoted = list(Registration.objects.filter(gathering=gathering, status=RegistrationStatus.WAITLISTED)
                    .order_by("registered_at", "id")[:free])
    now = timezone.now()
    for reg in promoted:
        reg.status, reg.promoted_at = RegistrationStatus.GOING, now
        reg.save(update_fields=["status", "promoted_at"])
        audit.record(actor=_system(), action="community.registration.promote", obj=reg,
                     summary=f"{reg.user} promoted from the waiting list of {gathering}")
    return promoted


def _system():
    from dandelion.core.actors import SYSTEM

    return SYSTEM


@transaction.atomic
def register_for_gathering(gathering: Gathering, *, actor) -> Registration:
    """A place if one is free, else the end of the waiting list. Registering again after cancelling is allowed."""
    # anyone who sees the gathering (its unit's subtree and the units above) and may register somewhere
    require_perm(actor, "community.add_registration")
    if not Gathering.objects.restrict(actor, "view").filter(pk=gathering.pk).exists():
        raise PermissionDeniedError(_("You may not register for this gathering."))
    gathering = Gathering.objects.select_for_update().get(pk=gathering.pk)
    if gathering.is_cancelled:
        raise InvalidCommunityData(_("This gathering is cancelled."))
    if gathering.ends_at < timezone.now():
        raise InvalidCommunityData(_("This gathering is over."))
    going = Registration.objects.filter(gathering=gathering, status=RegistrationStatus.GOING).count()
    status = RegistrationStatus.GOING if going < gathering.capacity else RegistrationStatus.WAITLISTED
    reg = Registration.objects.filter(gathering=gathering, user=actor).first()
    if reg is not None and reg.status != RegistrationStatus.CANCELLED:
        raise AlreadyRegistered(_("You are already registered (%(s)s).") % {"s": reg.get_status_display()})
    now = timezone.now()
    try:
        if reg is None:
            reg = Registration.objects.create(gathering=gathering, user=actor, status=status, registered_at=now)
        else:
            reg.status, reg.registered_at, reg.cancelled_at, reg.promoted_at = status, now, None, None
            reg.save()
    except IntegrityError as exc:  # pragma: no cover - the gathering lock serialises registrations
        raise AlreadyRegistered(_("You are already registered.")) from exc
    audit.record(actor=actor, action="community.registration.create", obj=reg,
                 summary=f"{actor} registered for {gathering} ({status})")
    return reg


@transaction.atomic
def cancel_registration(registration: Registration, *, actor) -> Registration:
    """Give the place back; the first on the waiting list takes it."""
    if registration.user_id != getattr(actor, "pk", None):
        require_perm(actor, "community.change_gathering", registration.gathering.unit)
    gathering = Gathering.objects.select_for_update().get(pk=registration.gathering_id)
    reg = Registration.objects.select_for_update().get(pk=registration.pk)
    if reg.status == RegistrationStatus.CANCELLED:
        return reg
    reg.status, reg.cancelled_at = RegistrationStatus.CANCELLED, timezone.now()
    reg.save(update_fields=["status", "cancelled_at"])
    audit.record(actor=actor, action="community.registration.cancel", obj=reg,
                 summary=f"{reg.user} cancelled for {gathering}")
    _fill_places(gathering)
    return reg


@transaction.atomic
def record_attendance(registration: Registration, *, actor, attended: bool) -> Registration:
    require_perm(actor, "community.change_gathering", registration.gathering.unit)
    Registration.objects.filter(pk=registration.pk).update(attended=bool(attended))
    registration.attended = bool(attended)
    audit.record(actor=actor, action="community.registration.attendance", obj=registration,
                 summary=f"{registration.user} {'attended' if attended else 'did not attend'}")
    return registration


def waiting_position(registration: Registration) -> int | None:
    if registration.status != RegistrationStatus.WAITLISTED:
        return None
    return Registration.objects.filter(
        gathering_id=registration.gathering_id, status=RegistrationStatus.WAITLISTED).filter(
        Q(registered_at__lt=registration.registered_at)
        | Q(registered_at=registration.registered_at, id__lt=registration.id)).count() + 1


__all__ = [
    "accept_answer", "answer_question", "answer_to_article", "archive_article", "ask_question",
    "cancel_registration", "create_article", "create_gathering", "give_feedback", "record_attendance",
    "register_for_gathering", "update_article", "update_gathering", "waiting_position",
]
