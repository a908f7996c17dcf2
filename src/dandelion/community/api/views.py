"""The community API: the knowledge base (with search), questions and answers, gatherings (with RSVP and .ics)."""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from dandelion.api.mixins import PermissionFirstMixin
from dandelion.api.viewsets import ServiceCreateMixin, ServiceUpdateMixin, ServiceViewSet
from dandelion.community import enablement, guest_access, ical, services
from dandelion.community import search as community_search
from dandelion.community.api import serializers as s
from dandelion.community.choices import RegistrationStatus
from dandelion.community.models import (
    Answer,
    Article,
    Certification,
    CertificationAward,
    Gathering,
    GuestGrant,
    LearningPath,
    MemberProfile,
    Question,
    Registration,
)
from dandelion.core.permissions import has_perm


class ArticleViewSet(PermissionFirstMixin, ServiceCreateMixin, ServiceUpdateMixin, ServiceViewSet):
    """Knowledge-base articles you may read (your units' and those above them). Writes: community managers and
    admins of the article's unit. ``search``: full-text, ranked, highlighted."""

    queryset = Article.objects.select_related("unit", "owner").prefetch_related("tags", "related")
    serializer_class = s.ArticleSerializer
    write_serializers = {"create": s.ArticleWriteSerializer, "update": s.ArticleUpdateSerializer,
                         "partial_update": s.ArticleUpdateSerializer}
    service_calls = {"create": services.create_article, "update": services.update_article}
    filterset_fields = ["kind", "language", "status"]
    search_fields = ["title"]
    ordering_fields = ["updated_at", "title", "review_by"]

    @extend_schema(parameters=[OpenApiParameter("q", str, description="Words to look for (no operators); "
                                                "without it, no hits. Only stop words or operators: 400."),
                               OpenApiParameter("kind", str), OpenApiParameter("language", str)],
                   responses={200: s.SearchResultSerializer, 400: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["get"])
    def search(self, request):
        kinds = tuple(k for k in request.query_params.getlist("kind") if k in ("article", "question", "answer"))
        if not request.query_params.get("q", "").strip():
            empty = community_search.SearchResult(query="", terms=(), hits=[], elapsed_ms=0.0, backend="",
                                                  matched_all_terms=True)
            return self.respond(empty, serializer_class=s.SearchResultSerializer)
        result = community_search.search(request.user, request.query_params.get("q", ""), kinds=kinds,
                                         language=request.query_params.get("language", "")[:2])
        return self.respond(result, serializer_class=s.SearchResultSerializer)

    @extend_schema(request=s.FeedbackSerializer, responses=s.ArticleSerializer)
    @action(detail=True, methods=["post"])
    def feedback(self, request, pk=None):
        article = self.get_object()
        self.require("community.add_articlefeedback")
        data = self.validated(s.FeedbackSerializer)
        services.give_feedback(article, actor=request.user, **data)
        return self.respond(article)

    @extend_schema(responses=s.ArticleVersionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def versions(self, request, pk=None):
        article = self.get_object()
        return self.respond(article.versions.all(), serializer_class=lambda qs, **kw: s.ArticleVersionSerializer(
            qs, many=True, **kw))


class QuestionViewSet(PermissionFirstMixin, ServiceCreateMixin, ServiceViewSet):
    """The community's questions and their answers; anyone who may ask asks, the asker accepts one answer."""

    queryset = Question.objects.select_related("asker").prefetch_related("tags", "answers__author")
    serializer_class = s.QuestionSerializer
    write_serializers = {"create": s.QuestionWriteSerializer}
    service_calls = {"create": services.ask_question}
    filterset_fields = ["language"]
    search_fields = ["title"]

    @extend_schema(request=s.AnswerWriteSerializer, responses={201: s.AnswerSerializer})
    @action(detail=True, methods=["post"])
    def answers(self, request, pk=None):
        question = self.get_object()
        self.require("community.add_answer")
        data = self.validated(s.AnswerWriteSerializer)
        answer = services.answer_question(question, actor=request.user, **data)
        return self.respond(answer, status.HTTP_201_CREATED, serializer_class=s.AnswerSerializer)

    @extend_schema(request=s.AcceptSerializer, responses=s.AnswerSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        question = self.get_object()
        if not services.may_accept(request.user, question):
            raise PermissionDenied(_("Only the person who asked may accept an answer."))
        data = self.validated(s.AcceptSerializer)
        answer = get_object_or_404(Answer.objects.filter(question=question), pk=data["answer"])
        services.accept_answer(answer, actor=request.user)
        return self.respond(answer, serializer_class=s.AnswerSerializer)


class GatheringViewSet(PermissionFirstMixin, ServiceCreateMixin, ServiceViewSet):
    """Gatherings you may see; register (a place or the waiting list), cancel (the next on the list is promoted),
    and each gathering's iCalendar file."""

    queryset = Gathering.objects.select_related("unit").prefetch_related("speakers", "agenda__speaker")
    serializer_class = s.GatheringSerializer
    write_serializers = {"create": s.GatheringWriteSerializer}
    service_calls = {"create": services.create_gathering}
    ordering_fields = ["starts_at"]

    def get_queryset(self):
        return super().get_queryset().annotate(
            going=Count("registrations", filter=Q(registrations__status=RegistrationStatus.GOING)),
            waitlisted=Count("registrations", filter=Q(registrations__status=RegistrationStatus.WAITLISTED)))

    @extend_schema(request=s.GatheringSeriesWriteSerializer, responses={201: s.GatheringSerializer(many=True)})
    @action(detail=False, methods=["post"])
    def series(self, request):
        """A recurring series: ``count`` gatherings, one every ``every_months`` months (same local time)."""
        data = self.validated(s.GatheringSeriesWriteSerializer)
        made = services.create_gathering_series(actor=request.user, **data)
        qs = self.get_queryset().filter(pk__in=[g.pk for g in made]).order_by("starts_at")
        return Response(s.GatheringSerializer(qs, many=True, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={201: s.RegistrationSerializer})
    @action(detail=True, methods=["post"])
    def register(self, request, pk=None):
        gathering = self.get_object()
        self.require("community.add_registration")
        reg = services.register_for_gathering(gathering, actor=request.user)
        return self.respond(reg, status.HTTP_201_CREATED, serializer_class=s.RegistrationSerializer)

    @extend_schema(request=None, responses=s.RegistrationSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        gathering = self.get_object()
        reg = get_object_or_404(Registration.objects.filter(gathering=gathering, user=request.user))
        reg = services.cancel_registration(reg, actor=request.user)
        return self.respond(reg, serializer_class=s.RegistrationSerializer)

    @extend_schema(responses=s.WaitingListSerializer)
    @action(detail=True, methods=["get"], url_path="waiting-list", pagination_class=None, filter_backends=[])
    def waiting_list(self, request, pk=None):
        """The caller's status and waiting position; the gathering's organisers also get the whole list in order."""
        gathering = self.get_object()
        mine = Registration.objects.filter(gathering=gathering, user=request.user).first()
        waiting = None
        if has_perm(request.user, "community.change_gathering", gathering.unit):
            rows = (Registration.objects.filter(gathering=gathering, status=RegistrationStatus.WAITLISTED)
                    .select_related("user").order_by("registered_at", "id"))
            waiting = [{"position": i, "user": r.user.get_username(), "registered_at": r.registered_at}
                       for i, r in enumerate(rows, start=1)]
        data = {"gathering": gathering.pk, "capacity": gathering.capacity,
                "going": services._going_count(gathering), "my_status": mine.status if mine else "",
                "my_position": services.waiting_position(mine) if mine else None, "waiting": waiting}
        return Response(s.WaitingListSerializer(data).data)

    @extend_schema(responses={(200, "text/calendar"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def ics(self, request, pk=None):
        gathering = self.get_object()
        body = ical.calendar_for([gathering], name=gathering.title, base_url=request.build_absolute_uri("/"))
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="gathering-{gathering.pk}.ics"'
        return response


class MemberViewSet(ServiceViewSet):  # no create, update or destroy: only ``me`` writes
    """The members directory: who runs what, in which unit, knowing what, and how to reach them. Reads are scoped
    (your subtree and the units above, plus the entries opened to the whole community); ``me``: your own entry
    (PUT/PATCH create or change it); ``ask``: ask an expert; ``may-publish``: the enablement check for a unit."""

    queryset = MemberProfile.objects.select_related("user", "unit")
    serializer_class = s.MemberProfileSerializer
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_object(self):
        # ``me`` has no pk in its URL: the object is the caller's own entry (asked for by the action itself, and by
        # OPTIONS and the browsable API on that URL)
        if self.lookup_field not in self.kwargs:
            obj = get_object_or_404(MemberProfile.objects.select_related("user", "unit"), user=self.request.user)
            self.check_object_permissions(self.request, obj)
            return obj
        return super().get_object()

    def get_queryset(self):
        params = self.request.query_params
        if self.action != "list":
            return super().get_queryset()
        return services.search_directory(
            self.request.user, q=params.get("q", ""), network=params.get("network", ""),
            language=params.get("language", ""), skill=params.get("skill", ""),
            experts_only=params.get("experts") in ("1", "true"))

    @extend_schema(parameters=[OpenApiParameter("q", str), OpenApiParameter("network", str),
                               OpenApiParameter("language", str), OpenApiParameter("skill", str),
                               OpenApiParameter("experts", bool)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(methods=["GET"], responses={200: s.MemberProfileSerializer, 404: OpenApiTypes.OBJECT})
    @extend_schema(methods=["PUT", "PATCH"], request=s.MemberProfileWriteSerializer,
                   responses=s.MemberProfileSerializer)
    @action(detail=False, methods=["get", "put", "patch"])
    def me(self, request):
        self.require("community.view_memberprofile")
        if request.method == "GET":
            return self.respond(self.get_object())
        data = self.validated(s.MemberProfileWriteSerializer, partial=request.method == "PATCH")
        profile = services.update_profile(actor=request.user, user=request.user, **data)
        return self.respond(profile)

    @extend_schema(request=s.AskExpertSerializer, responses={201: s.QuestionSerializer})
    @action(detail=True, methods=["post"])
    def ask(self, request, pk=None):
        profile = self.get_object()
        self.require("community.add_question")
        data = self.validated(s.AskExpertSerializer)
        question = services.ask_expert(profile, actor=request.user, **data)
        return self.respond(question, status.HTTP_201_CREATED, serializer_class=s.QuestionSerializer)

    @extend_schema(parameters=[OpenApiParameter("unit", int, description="One unit (else: each unit where you "
                                                "hold a role).")],
                   responses={200: s.PublishDecisionSerializer(many=True), 400: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["get"], url_path="may-publish", pagination_class=None, filter_backends=[])
    def may_publish(self, request):
        """May I publish for this unit (or each of mine)? The same answer the publishing services get."""
        from dandelion.orgs.models import Membership, OrgUnit

        raw = request.query_params.get("unit")
        if raw is not None:
            if not raw.isdigit() or len(raw) > 12:
                raise ValidationError({"unit": ["A unit id is a number."]})
            units = [get_object_or_404(OrgUnit.objects.restrict(request.user, "view"), pk=int(raw))]
        else:
            units = [m.unit for m in Membership.objects.filter(user=request.user, is_active=True)
                     .select_related("unit").order_by("unit__path")]
        answers = []
        for unit in units:
            decision = services.may_publish(request.user, unit)
            answers.append({"unit": unit.pk, "allowed": decision.allowed, "message": decision.message,
                            "path_url": decision.path_url, "missing": list(decision.missing)})
        return Response(s.PublishDecisionSerializer(answers, many=True).data)


__all__ = ["ArticleViewSet", "GatheringViewSet", "MemberViewSet", "QuestionViewSet", "has_perm"]


class LearningPathViewSet(ServiceViewSet):
    """The learning paths you may see (their articles in order and their quiz, without the answers); take the quiz."""

    queryset = LearningPath.objects.select_related("certification").prefetch_related("steps__article", "quiz")
    serializer_class = s.LearningPathSerializer
    ordering_fields = ["title"]

    @extend_schema(request=s.QuizAnswersSerializer, responses=s.QuizResultSerializer)
    @action(detail=True, methods=["post"])
    def quiz(self, request, pk=None):
        """Grade the answers; at or above the pass mark, the path's certification is awarded (or renewed)."""
        path = self.get_object()
        self.require("community.take_quiz")
        data = self.validated(s.QuizAnswersSerializer)
        score, award = enablement.take_quiz(path, actor=request.user, answers=data["answers"])
        return Response(s.QuizResultSerializer({"score": score, "passed": award is not None, "award": award}).data)


class CertificationViewSet(ServiceViewSet):
    """The certifications; ``mine`` (the caller's awards) and ``holders`` (the admins' view of who is certified and
    enabled where in their subtree: the hub sees the whole group)."""

    queryset = Certification.objects.select_related("path")
    serializer_class = s.CertificationSerializer

    @extend_schema(responses=s.CertificationAwardSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def mine(self, request):
        awards = CertificationAward.objects.filter(user=request.user).select_related("certification", "user")
        return Response(s.CertificationAwardSerializer(awards, many=True).data)

    @extend_schema(parameters=[OpenApiParameter("unit", OpenApiTypes.INT, required=False,
                                                description="Only this unit's subtree.")],
                   responses=s.HolderSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def holders(self, request):
        """Who holds a role where, whether they may publish there, what is missing, and their certifications
        (at most 500 rows). For the admins of a subtree (``community.change_rolerequirement``)."""
        from dandelion.orgs.models import Membership, OrgUnit

        self.require("community.change_rolerequirement")
        rows = Membership.objects.restrict(request.user, "change").filter(is_active=True).select_related(
            "user", "unit").order_by("unit__path", "user__username")
        unit_id = request.query_params.get("unit")
        if unit_id:
            try:
                unit = OrgUnit.objects.restrict(request.user, "view").get(pk=int(unit_id))
            except (ValueError, OrgUnit.DoesNotExist) as exc:
                raise ValidationError({"unit": "Unknown unit."}) from exc
            rows = rows.filter(unit__path__startswith=unit.path)
        rows = list(rows[:500])
        now = timezone.now()
        awards: dict[int, list] = {}
        for award in CertificationAward.objects.filter(user_id__in={m.user_id for m in rows}, expires_at__gt=now
                                                       ).select_related("certification", "user"):
            awards.setdefault(award.user_id, []).append(award)
        data = []
        for m in rows:
            decision = services.may_publish(m.user, m.unit)
            data.append({"user": m.user.get_username(), "unit": m.unit_id, "unit_name": m.unit.name, "role": m.role,
                         "may_publish": bool(decision),
                         "missing": [{"what": x.what, "label": x.label, "url": x.url} for x in decision.missing],
                         "certifications": awards.get(m.user_id, [])})
        return Response(s.HolderSerializer(data, many=True).data)


class GuestInvitationViewSet(ServiceCreateMixin, ServiceViewSet):
    """Invited guests (speakers and outside attendees) of the gatherings you organise
    (``community.change_gathering`` on the gathering's unit; nobody else sees them). ``POST`` invites (the guest
    gets a login limited to that gathering's page and materials, and an e-mail with a set-password link);
    ``revoke`` ends the access at once. The same services as the gathering's page."""

    queryset = GuestGrant.objects.select_related("account__user", "gathering")
    serializer_class = s.GuestInvitationSerializer
    write_serializers = {"create": s.GuestInvitationWriteSerializer}
    service_calls = {"create": guest_access.invite_guest}
    create_permission = "community.change_gathering"
    create_denied_message = "You do not organise any gathering."
    filterset_fields = ["gathering", "role"]
    ordering_fields = ["created_at", "expires_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return GuestGrant.objects.none()
        organised = Gathering.objects.restrict(self.request.user, "change")
        return self.queryset.filter(gathering__in=organised)

    def perform_create(self, data: dict):
        gathering = Gathering.objects.restrict(self.request.user, "view").filter(pk=data.pop("gathering")).first()
        if gathering is None:
            raise ValidationError({"gathering": ["Unknown gathering."]})
        return self.call_service("create", gathering, **data)

    @extend_schema(request=None, responses=s.GuestInvitationSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """End the guest's access to this gathering now (their other gatherings are untouched)."""
        grant = guest_access.revoke_guest(self.get_object(), actor=request.user)
        return self.respond(grant)
