"""Every write of the community app. Keyword-only ``actor``, one transaction, a permission check on the row's unit
(or anywhere for the organisation-wide questions and answers), one audit row, events on commit."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dandelion.community import search as search_index
from dandelion.community.choices import (
    ArticleStatus,
    Language,
    ProfileVisibility,
    RegistrationStatus,
    SearchKind,
)
from dandelion.community.exceptions import AlreadyRegistered, EnablementRequired, InvalidCommunityData
from dandelion.community.models import (
    AgendaItem,
    Answer,
    Article,
    ArticleFeedback,
    ArticleVersion,
    Gathering,
    GuestRegistration,
    Material,
    MemberProfile,
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
                    "is_cancelled", "open_to_guests")
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
                     agenda: Iterable[dict] = (), open_to_guests: bool = False) -> Gathering:
    """Plan a gathering of ``unit``'s community. ``speakers``: ``{"name", "affiliation", "bio", "is_guest", "user"}``;
    ``agenda``: ``{"starts_at", "title", "speaker"}`` (the speaker by name)."""
    require_perm(actor, "community.add_gathering", unit)
    _check_gathering(starts_at, ends_at, capacity)
    if not (place or online_url):
        raise InvalidCommunityData(_("Give a place, a link, or both."), field="place")
    gathering = Gathering.objects.create(
        unit=unit, title=_clean_text(title, "title", max_len=200), starts_at=starts_at, ends_at=ends_at,
        capacity=int(capacity), description=_clean_text(description, "description", required=False),
        place=(place or "")[:300], online_url=online_url or "", open_to_guests=bool(open_to_guests),
        organiser=actor if getattr(actor, "pk", None) else None)
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


MAX_SERIES = 24


def add_months(moment: dt.datetime, months: int, tz: dt.tzinfo | None = None) -> dt.datetime:
    """``moment`` ``months`` later at the same wall-clock time in ``tz`` (default: the moment's own zone), the day
    clamped to the month's last (31 January → 28 February)."""
    import calendar

    if not timezone.is_aware(moment):
        tz = None
    local = moment.astimezone(tz) if tz is not None else moment
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    naive = local.replace(tzinfo=None, year=year, month=month, day=day)
    return timezone.make_aware(naive, local.tzinfo) if local.tzinfo is not None else naive


def _unit_zone(unit) -> dt.tzinfo:
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(unit.timezone) if getattr(unit, "timezone", "") else timezone.get_current_timezone()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_current_timezone()


@transaction.atomic
def create_gathering_series(*, actor, unit, title: str, starts_at, ends_at, every_months: int = 2, count: int = 6,
                            **common: Any) -> list[Gathering]:
    """A recurring series ("every two months"): ``count`` gatherings, the first at ``starts_at``, each following one
    ``every_months`` later at the same local time of the unit's time zone, sharing a ``series_key``. Every one is checked as
    :func:`create_gathering` checks one; one fails, none is made."""
    import uuid

    if not 1 <= int(every_months) <= 12:
        raise InvalidCommunityData(_("Repeat every 1 to 12 months."), field="every_months")
    if not 1 <= int(count) <= MAX_SERIES:
        raise InvalidCommunityData(_("A series has 1 to %(n)d gatherings.") % {"n": MAX_SERIES}, field="count")
    _check_gathering(starts_at, ends_at, common.get("capacity", 50))
    key = str(uuid.uuid4())
    duration = ends_at - starts_at
    made = []
    zone = _unit_zone(unit)
    for i in range(int(count)):
        start = add_months(starts_at, i * int(every_months), zone)
        shift = start - starts_at
        agenda = [{**item, "starts_at": item["starts_at"] + shift} for item in common.get("agenda") or ()
                  if item.get("starts_at") is not None] if common.get("agenda") else ()
        gathering = create_gathering(actor=actor, unit=unit, title=title, starts_at=start, ends_at=start + duration,
                                     **{**common, "agenda": agenda})
        gathering.series_key = key
        gathering.save(update_fields=["series_key"])
        made.append(gathering)
    audit.record(actor=actor, action="community.gathering.series", obj=made[0],
                 summary=f"Planned the series {title}: {count} gatherings every {every_months} month(s)")
    return made


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
    _check_capacity_cut(gathering, changes.get("capacity", gathering.capacity))
    for key, value in changes.items():
        setattr(gathering, key, value)
    gathering.save()
    _fill_places(gathering)
    audit.record(actor=actor, action="community.gathering.update", obj=gathering, summary=f"Changed {gathering}",
                 changes=audit.diff(before, audit.snapshot(gathering, GATHERING_FIELDS)))
    return gathering


def _fill_places(gathering: Gathering) -> list[Registration]:
    """Promote the waiting list, first come first served, while there are places (the gathering row is locked).

    Each promotion is a conditional UPDATE (``status = waitlisted`` → ``going``): a registration is promoted, audited
    and e-mailed exactly once even if two transactions reach it (the lock serialises them on PostgreSQL; the
    condition makes the second a no-op anywhere)."""
    free = gathering.capacity - _going_count(gathering)
    if free <= 0:
        return []
    candidates = list(Registration.objects.filter(gathering=gathering, status=RegistrationStatus.WAITLISTED)
                      .order_by("registered_at", "id")[:free])
    now = timezone.now()
    promoted = []
    for reg in candidates:
        won = Registration.objects.filter(pk=reg.pk, status=RegistrationStatus.WAITLISTED).update(
            status=RegistrationStatus.GOING, promoted_at=now)
        if not won:
            continue
        reg.status, reg.promoted_at = RegistrationStatus.GOING, now
        promoted.append(reg)
        audit.record(actor=_system(), action="community.registration.promote", obj=reg,
                     summary=f"{reg.user} promoted from the waiting list of {gathering}")
        reg_id = reg.pk
        transaction.on_commit(lambda reg_id=reg_id: _mail_promotion(reg_id))
    return promoted


def _mail_promotion(registration_id: int) -> None:
    """Tell a promoted member they have a place, in their language and time zone (profile, else the defaults)."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.utils import translation
    from django.utils.formats import date_format

    reg = Registration.objects.select_related("user", "gathering__unit").get(pk=registration_id)
    if reg.status != RegistrationStatus.GOING or not reg.user.email:
        return
    from dandelion.core.models import UserProfile

    profile = UserProfile.objects.filter(user=reg.user).first()
    language = getattr(profile, "language", "") or settings.LANGUAGE_CODE
    zone = _unit_zone(reg.gathering.unit)
    if getattr(profile, "time_zone", ""):
        import zoneinfo

        try:
            zone = zoneinfo.ZoneInfo(profile.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    gathering = reg.gathering
    with translation.override(language), timezone.override(zone):
        when = date_format(timezone.localtime(gathering.starts_at), "DATETIME_FORMAT")
        send_mail(
            subject=_("You have a place: %(t)s") % {"t": gathering.title},
            message=_("Hello %(name)s,\n\nA place opened at %(title)s (%(when)s) and it is yours: you were first "
                      "on the waiting list.\n\n%(link)s\n\nIf you cannot come any more, cancel your "
                      "registration so that the next person gets it.") % {
                "name": reg.user.get_full_name() or reg.user.get_username(), "title": gathering.title,
                "when": when, "link": _site_url(gathering.get_absolute_url())},
            from_email=None, recipient_list=[reg.user.email], fail_silently=False)


def _check_capacity_cut(gathering: Gathering, capacity) -> None:
    """Lowering the capacity below the places already taken would take places from people: refused, clearly."""
    taken = _going_count(gathering)
    if int(capacity) < taken:
        raise InvalidCommunityData(
            _("%(n)d places are already taken: the capacity cannot go below %(n)d (ask people to cancel first).")
            % {"n": taken}, field="capacity")


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
    going = _going_count(gathering)
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


# --- the members directory ---------------------------------------------------------------------------------------

PROFILE_LIST_FIELDS = ("networks", "languages", "skills")
PROFILE_TEXT_FIELDS = {"headline": 200, "bio": 4000, "phone": 40, "chat": 150}
_LANG_CODE = re.compile(r"^[a-z]{2}$")


def _clean_list(values: Iterable[str] | str | None, field: str, *, max_items: int = 20) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = values.split(",")
    clean: list[str] = []
    for value in values:
        item = str(value).replace("\x00", "").strip().lower()[:60]
        if field == "languages" and item and not _LANG_CODE.match(item):
            raise InvalidCommunityData(_("%(v)r is not a two-letter language code (ISO 639-1).") % {"v": item},
                                       field=field)
        if item and item not in clean:
            clean.append(item)
    if len(clean) > max_items:
        raise InvalidCommunityData(_("At most %(n)d items.") % {"n": max_items}, field=field)
    return clean


def _profile_search_text(profile: MemberProfile) -> str:
    user = profile.user
    parts = [user.get_username(), user.get_full_name(), profile.unit.name, profile.headline, profile.bio,
             *profile.networks, *profile.languages, *profile.skills]
    tokens = [f"{prefix}:{item.replace(' ', '_')}" for prefix, items in (
        ("net", profile.networks), ("lang", profile.languages), ("skill", profile.skills)) for item in items]
    return " " + " ".join(p for p in [*parts, *tokens] if p).lower() + " "


@transaction.atomic
def update_profile(*, actor, user, unit=None, **fields: Any) -> MemberProfile:
    """Create or change ``user``'s directory entry. A person edits their own (on a unit where they hold a role);
    the unit's admins (``community.change_memberprofile`` there) edit anyone's of their subtree."""
    from dandelion.core.permissions import get_grants

    existing = MemberProfile.objects.filter(user=user).select_related("unit").first()
    unit = unit or (existing.unit if existing else None)
    if unit is None:
        raise InvalidCommunityData(_("Choose the unit you work for."), field="unit")
    own = getattr(actor, "pk", None) == user.pk
    if own:
        require_perm(actor, "community.view_memberprofile")
        if not (getattr(actor, "is_superuser", False) or any(
                g.unit_path == unit.path or unit.path.startswith(g.unit_path) for g in get_grants(actor))):
            raise PermissionDeniedError(_("You can only list yourself under a unit where you hold a role."))
    else:
        require_perm(actor, "community.change_memberprofile", unit)
        if existing is not None:
            require_perm(actor, "community.change_memberprofile", existing.unit)
    profile = existing or MemberProfile(user=user, unit=unit)
    profile.unit = unit
    for name, max_len in PROFILE_TEXT_FIELDS.items():
        if name in fields:
            setattr(profile, name, _clean_text(fields[name], name, required=False, max_len=max_len))
    for name in PROFILE_LIST_FIELDS:
        if name in fields:
            setattr(profile, name, _clean_list(fields[name], name))
    if "contact_email" in fields:
        profile.contact_email = _clean_text(fields["contact_email"], "contact_email", required=False, max_len=254)
    if "open_to_questions" in fields:
        profile.open_to_questions = bool(fields["open_to_questions"])
    if "weekly_digest" in fields:
        profile.weekly_digest = bool(fields["weekly_digest"])
    if "visibility" in fields:
        if fields["visibility"] not in ProfileVisibility.values:
            raise InvalidCommunityData(_("Unknown visibility %(v)r.") % {"v": fields["visibility"]},
                                       field="visibility")
        profile.visibility = fields["visibility"]
    if not profile.contact_email and user.email:
        profile.contact_email = user.email
    profile.updated_at = timezone.now()
    profile.search_text = _profile_search_text(profile)
    profile.save()
    audit.record(actor=actor, action="community.profile.update", obj=profile,
                 summary=f"{'Created' if existing is None else 'Updated'} the directory entry of {profile}")
    return profile


def search_directory(user, *, q: str = "", network: str = "", language: str = "", skill: str = "",
                     unit=None, experts_only: bool = False):
    """The directory entries ``user`` may read, filtered: every word of ``q`` in the entry (name, unit, headline,
    bio, networks, languages, skills), a network, a language, a skill, a unit's subtree, only "ask an expert"."""
    qs = MemberProfile.objects.restrict(user, "view").select_related("user", "unit")
    for word in (q or "")[:200].lower().split()[:8]:
        qs = qs.filter(search_text__contains=word)
    for value, prefix in ((network, "net"), (language, "lang"), (skill, "skill")):
        value = (value or "").strip().lower()[:60]
        if value:  # an exact item of the list: the tokens are kept in search_text (portable: no JSON containment)
            qs = qs.filter(search_text__contains=f" {prefix}:{value.replace(' ', '_')} ")
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    if experts_only:
        qs = qs.filter(open_to_questions=True)
    return qs


@transaction.atomic
def ask_expert(profile: MemberProfile, *, actor, title: str, body: str = "", language: str = "en",
               tags: Iterable[str] | None = None) -> Question:
    """A question addressed to one expert (who gets an e-mail after commit); the community still sees it and may
    answer."""
    if not profile.open_to_questions:
        raise InvalidCommunityData(_("%(name)s does not take questions at the moment.") % {"name": profile})
    if profile.user_id == getattr(actor, "pk", None):
        raise InvalidCommunityData(_("You cannot ask yourself."))
    question = ask_question(actor=actor, title=title, body=body, language=language, tags=tags)
    question.addressed_to = profile.user
    question.save(update_fields=["addressed_to"])
    audit.record(actor=actor, action="community.question.ask_expert", obj=question,
                 summary=f"Asked {profile} directly: {question.title}")
    recipient = profile.contact_email or profile.user.email
    if recipient:
        transaction.on_commit(lambda: _mail_expert(question.pk, recipient))
    return question


def _mail_expert(question_id: int, recipient: str) -> None:
    from django.conf import settings
    from django.core.mail import send_mail

    question = Question.objects.select_related("asker").get(pk=question_id)
    asker = question.asker.get_full_name() or question.asker.get_username() if question.asker else "?"
    send_mail(
        subject=_("A question for you: %(t)s") % {"t": question.title},
        message=_("%(who)s asks you, on the community:\n\n%(title)s\n\n%(body)s\n\nAnswer: %(url)s") % {
            "who": asker, "title": question.title, "body": question.body,
            "url": getattr(settings, "SITE_URL", "").rstrip("/") + question.get_absolute_url()},
        from_email=None, recipient_list=[recipient], fail_silently=False)


# --- enablement, asked by other apps ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishDecision:
    """The answer of :func:`may_publish`: ``allowed``, else what is missing, a message and the path to follow."""

    allowed: bool
    missing: tuple[Any, ...] = ()
    message: str = ""
    path_url: str = ""

    def __bool__(self) -> bool:
        return self.allowed


def may_publish(user, unit) -> PublishDecision:
    """May ``user`` publish (or answer on an official account) for ``unit``? Other apps ask this before acting.

    The requirements are those of ``RoleRequirement`` rows set on ``unit`` or above for the roles the person
    holds there (a certification that has not expired, the current guidelines acknowledged). A person with no role
    on the unit is *not* allowed here (fail closed; the caller's own permission check says why); the SYSTEM actor
    and superusers are. Reads only: it never writes. :func:`require_publish` raises instead."""
    from dandelion.community import enablement
    from dandelion.core.actors import is_system
    from dandelion.core.permissions import get_grants

    if unit is None:
        return PublishDecision(False, message=_("No unit given: publishing needs a unit."))
    if not (is_system(user) or getattr(user, "is_superuser", False)):
        if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
            return PublishDecision(False, message=_("Sign in first."))
        if not any(unit.path.startswith(g.unit_path) for g in get_grants(user)):
            return PublishDecision(False, message=_("You hold no role on %(unit)s.") % {"unit": unit})
    missing = enablement.missing_for(user, unit)
    if not missing:
        return PublishDecision(True)
    names = ", ".join(str(m.label) for m in missing)
    return PublishDecision(
        False, missing=tuple(missing), path_url=missing[0].url,
        message=_("Before publishing here you need: %(names)s. Follow the learning path to get there.")
        % {"names": names})


def require_publish(user, unit) -> None:
    """:func:`may_publish`, raising :class:`EnablementRequired` (a 403 with the path's link) when not allowed."""
    decision = may_publish(user, unit)
    if not decision.allowed:
        raise EnablementRequired(decision.message, path_url=decision.path_url)


# --- gathering materials, outside guests, editing a series -----------------------------------------------------------

#: What a material file may be: its extension, and the first bytes its content must start with (type-checked, not
#: trusted from the browser's content type). Office files (pptx, docx, odp...) are zip archives.
MATERIAL_TYPES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",), "pptx": (b"PK\x03\x04",), "docx": (b"PK\x03\x04",), "xlsx": (b"PK\x03\x04",),
    "odp": (b"PK\x03\x04",), "odt": (b"PK\x03\x04",), "key": (b"PK\x03\x04",), "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",), "jpeg": (b"\xff\xd8\xff",), "txt": (), "md": (),
}


def max_material_bytes() -> int:
    from django.conf import settings

    return int(getattr(settings, "DANDELION_COMMUNITY_MAX_MATERIAL_BYTES", 20 * 1024 * 1024))


def _check_material_file(upload) -> None:
    import os

    ext = os.path.splitext(upload.name or "")[1].lower().lstrip(".")
    if ext not in MATERIAL_TYPES:
        raise InvalidCommunityData(_("Files of this type cannot be attached (allowed: %(types)s).")
                                   % {"types": ", ".join(sorted(MATERIAL_TYPES))}, field="file")
    limit = max_material_bytes()
    if upload.size is None or upload.size > limit:
        raise InvalidCommunityData(_("The file is larger than %(mb)d MB.") % {"mb": limit // (1024 * 1024)},
                                   field="file")
    if upload.size == 0:
        raise InvalidCommunityData(_("The file is empty."), field="file")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    magic = MATERIAL_TYPES[ext]
    if magic and not any(head.startswith(m) for m in magic):
        raise InvalidCommunityData(_("The file's content does not match its type (.%(ext)s).") % {"ext": ext},
                                   field="file")
    if not magic:  # text: it must decode
        try:
            upload.read().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidCommunityData(_("A text file must be UTF-8."), field="file") from exc
        finally:
            upload.seek(0)


@transaction.atomic
def add_material(gathering: Gathering, *, actor, title: str, url: str = "", file=None) -> Material:
    """Attach slides, notes or a recording to a gathering once it has started: a link, or an uploaded file (size-capped,
    type-checked by its content, kept in Django's default storage). The people who may change the gathering may."""
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator

    require_perm(actor, "community.change_gathering", gathering.unit)
    if gathering.starts_at > timezone.now():
        raise InvalidCommunityData(_("Materials are attached once the gathering has started."))
    title = _clean_text(title, "title", max_len=200)
    url = (url or "").strip()
    if bool(url) == bool(file):
        raise InvalidCommunityData(_("Give a link or a file (one of them)."), field="url")
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError as exc:
            raise InvalidCommunityData(_("Enter a valid http(s) link."), field="url") from exc
        if len(url) > 500:
            raise InvalidCommunityData(_("The link is too long."), field="url")
    material = Material(gathering=gathering, title=title, url=url,
                        added_by=actor if getattr(actor, "pk", None) else None)
    if file is not None:
        _check_material_file(file)
        material.file.save(file.name, file, save=False)
    material.save()
    audit.record(actor=actor, action="community.material.add", obj=gathering,
                 summary=f"Attached {title!r} to {gathering}" + (f" ({material.file.name})" if file else f" ({url})"))
    return material


@transaction.atomic
def remove_material(material: Material, *, actor) -> None:
    require_perm(actor, "community.change_gathering", material.gathering.unit)
    name, gathering = material.file.name, material.gathering
    material.delete()
    if name:
        storage = material.file.storage
        transaction.on_commit(lambda: storage.delete(name))
    audit.record(actor=actor, action="community.material.remove", obj=gathering,
                 summary=f"Removed {material.title!r} from {gathering}")


GUEST_TOKEN_SALT = "dandelion.community.guest"
GUEST_TOKEN_MAX_AGE = 7 * 24 * 3600


def guest_token(guest: GuestRegistration) -> str:
    from django.core import signing

    return signing.dumps({"g": guest.pk, "e": guest.email}, salt=GUEST_TOKEN_SALT, compress=True)


def _going_count(gathering: Gathering) -> int:
    return (Registration.objects.filter(gathering=gathering, status=RegistrationStatus.GOING).count()
            + GuestRegistration.objects.filter(gathering=gathering,
                                               status=GuestRegistration.Status.GOING).count())


@transaction.atomic
def register_guest(gathering: Gathering, *, email: str, name: str, affiliation: str = "",
                   language: str = "") -> GuestRegistration:
    """An outside guest asks for a place at a gathering open to guests: a pending registration, and an e-mail with a
    signed confirmation link (valid a week). Asking again re-sends the link; the answer is the same either way, so
    the form tells nobody who else registered."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from dandelion.core.actors import SYSTEM

    gathering = Gathering.objects.select_for_update().get(pk=gathering.pk)
    if not gathering.open_to_guests:
        raise PermissionDeniedError(_("This gathering is not open to guests."))
    if gathering.is_cancelled:
        raise InvalidCommunityData(_("This gathering is cancelled."))
    if gathering.ends_at < timezone.now():
        raise InvalidCommunityData(_("This gathering is over."))
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidCommunityData(_("Enter a valid e-mail address."), field="email") from exc
    name = _clean_text(name, "name", max_len=150)
    guest, created = GuestRegistration.objects.get_or_create(
        gathering=gathering, email=email,
        defaults={"name": name, "affiliation": (affiliation or "")[:150], "language": (language or "")[:10]})
    if not created and guest.status == GuestRegistration.Status.CANCELLED:
        guest.status, guest.confirmed_at, guest.name = GuestRegistration.Status.PENDING, None, name
        guest.save(update_fields=["status", "confirmed_at", "name"])
    if guest.status == GuestRegistration.Status.PENDING:
        audit.record(actor=SYSTEM, action="community.guest.register", obj=gathering,
                     summary=f"Guest {email} asked to register for {gathering}")
        guest_id = guest.pk
        transaction.on_commit(lambda: _mail_guest_confirmation(guest_id))
    return guest


def _site_url(path: str) -> str:
    from django.conf import settings

    return getattr(settings, "SITE_URL", "").rstrip("/") + path


def _mail_guest_confirmation(guest_id: int) -> None:
    from django.core.mail import send_mail
    from django.urls import reverse
    from django.utils import translation

    guest = GuestRegistration.objects.select_related("gathering__unit").get(pk=guest_id)
    link = _site_url(reverse("community:guest-confirm", args=[guest_token(guest)]))
    with translation.override(guest.language or None), timezone.override(_unit_zone(guest.gathering.unit)):
        from django.utils.formats import date_format

        when = date_format(timezone.localtime(guest.gathering.starts_at), "DATETIME_FORMAT")
        send_mail(
            subject=_("Confirm your place: %(t)s") % {"t": guest.gathering.title},
            message=_("Hello %(name)s,\n\nTo confirm your place at %(title)s (%(when)s), follow this link within "
                      "a week:\n\n%(link)s\n\nIf you did not ask for it, ignore this e-mail.") % {
                "name": guest.name, "title": guest.gathering.title, "when": when, "link": link},
            from_email=None, recipient_list=[guest.email], fail_silently=False)


@transaction.atomic
def confirm_guest(token: str) -> GuestRegistration:
    """Follow a guest's signed link: a place if one is free (guests and members share the capacity)."""
    from django.core import signing

    from dandelion.core.actors import SYSTEM

    try:
        data = signing.loads(token, salt=GUEST_TOKEN_SALT, max_age=GUEST_TOKEN_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise InvalidCommunityData(_("This link has expired: register again.")) from exc
    except signing.BadSignature as exc:
        raise InvalidCommunityData(_("This link is not valid.")) from exc
    guest = GuestRegistration.objects.filter(pk=data.get("g"), email=data.get("e")).first()
    if guest is None:
        raise InvalidCommunityData(_("This link is not valid."))
    gathering = Gathering.objects.select_for_update().get(pk=guest.gathering_id)
    guest = GuestRegistration.objects.select_for_update().get(pk=guest.pk)
    if guest.status == GuestRegistration.Status.GOING:
        return guest
    if guest.status == GuestRegistration.Status.CANCELLED:
        raise InvalidCommunityData(_("This registration was cancelled: register again."))
    if gathering.is_cancelled or gathering.ends_at < timezone.now():
        raise InvalidCommunityData(_("This gathering is cancelled or over."))
    if _going_count(gathering) >= gathering.capacity:
        raise InvalidCommunityData(_("Sorry, the gathering is full."))
    guest.status, guest.confirmed_at = GuestRegistration.Status.GOING, timezone.now()
    guest.save(update_fields=["status", "confirmed_at"])
    audit.record(actor=SYSTEM, action="community.guest.confirm", obj=gathering,
                 summary=f"Guest {guest.email} confirmed a place at {gathering}")
    return guest


@transaction.atomic
def cancel_guest(guest: GuestRegistration, *, actor) -> GuestRegistration:
    require_perm(actor, "community.change_gathering", guest.gathering.unit)
    gathering = Gathering.objects.select_for_update().get(pk=guest.gathering_id)
    GuestRegistration.objects.filter(pk=guest.pk).update(status=GuestRegistration.Status.CANCELLED)
    guest.status = GuestRegistration.Status.CANCELLED
    audit.record(actor=actor, action="community.guest.cancel", obj=gathering,
                 summary=f"Cancelled the guest {guest.email} at {gathering}")
    _fill_places(gathering)  # the place goes to the first on the members' waiting list
    return guest


SERIES_FIELDS = ("starts_at", "ends_at", "place", "online_url", "capacity")


@transaction.atomic
def update_series(gathering: Gathering, *, actor, **changes: Any) -> list[Gathering]:
    """Change this gathering of a recurring series **and the following ones** (not the earlier, not the past): a new
    start moves each by the same shift of local (unit time zone) wall-clock time, a new end sets the same duration;
    place, link and capacity are copied. Every gathering is checked; one fails, none changes."""
    unknown = set(changes) - set(SERIES_FIELDS)
    if unknown:
        raise InvalidCommunityData(_("Cannot change %(f)s here.") % {"f": ", ".join(sorted(unknown))},
                                   field=min(unknown))
    require_perm(actor, "community.change_gathering", gathering.unit)
    if not gathering.series_key:
        return [update_gathering(gathering, actor=actor, **changes)]
    zone = _unit_zone(gathering.unit)
    new_start = changes.pop("starts_at", gathering.starts_at)
    new_end = changes.pop("ends_at", None)
    duration = (new_end - new_start) if new_end is not None else (gathering.ends_at - gathering.starts_at)
    _check_gathering(new_start, new_start + duration, changes.get("capacity", gathering.capacity))
    local_shift = (timezone.localtime(new_start, zone).replace(tzinfo=None)
                   - timezone.localtime(gathering.starts_at, zone).replace(tzinfo=None))
    following = list(Gathering.objects.select_for_update().filter(
        series_key=gathering.series_key, unit=gathering.unit, starts_at__gte=gathering.starts_at,
        ends_at__gte=timezone.now()).order_by("starts_at", "id"))
    changed = []
    if "capacity" in changes:
        for g in following:
            _check_capacity_cut(g, changes["capacity"])
    for g in following:
        before = audit.snapshot(g, GATHERING_FIELDS)
        local = timezone.localtime(g.starts_at, zone).replace(tzinfo=None) + local_shift
        g.starts_at = timezone.make_aware(local, zone)
        g.ends_at = g.starts_at + duration
        for key, value in changes.items():
            setattr(g, key, value)
        g.save()
        _fill_places(g)
        audit.record(actor=actor, action="community.gathering.update", obj=g,
                     summary=f"Changed {g} (this and the following gatherings of the series)",
                     changes=audit.diff(before, audit.snapshot(g, GATHERING_FIELDS)))
        changed.append(g)
    return changed
