"""``/api/v1/posts/``, ``guideline-rules/``, ``workflows/``, ``crisis-pauses/``: reads restricted, writes through
the publishing services."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers as drf_serializers
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from dandelion.api.viewsets import ServiceCreateMixin, ServiceModelViewSet, ServiceUpdateMixin, ServiceViewSet
from dandelion.core.permissions import has_perm
from dandelion.orgs.models import OrgUnit
from dandelion.publishing import advocacy, campaigns, importing, links, media, services
from dandelion.publishing.api.serializers import (
    AdvocacyItemSerializer,
    AdvocacyItemUpdateSerializer,
    AdvocacyItemWriteSerializer,
    AdvocacyShareSerializer,
    CampaignSerializer,
    CampaignSpokeSerializer,
    CampaignWriteSerializer,
    CheckResultSerializer,
    CommentSerializer,
    CrisisPauseSerializer,
    GuidelineRuleSerializer,
    LocaliseSerializer,
    MediaInputSerializer,
    PersonalAccountSerializer,
    PostImportErrorSerializer,
    PostImportResultSerializer,
    PostImportSerializer,
    PostSerializer,
    PostUpdateSerializer,
    PostWriteSerializer,
    PublishingSettingsSerializer,
    ReasonSerializer,
    ScheduleSerializer,
    ShareInputSerializer,
    SpokeCountSerializer,
    WorkflowSerializer,
)
from dandelion.publishing.exceptions import InvalidPost
from dandelion.publishing.models import (
    AdvocacyItem,
    Campaign,
    CampaignSpoke,
    CrisisPause,
    GuidelineRule,
    PersonalAccount,
    Post,
    PublishingSettings,
    Workflow,
)


@extend_schema_view(
    list=extend_schema(summary="List posts within your scope"),
    retrieve=extend_schema(summary="One post with its variants, checks and approvals"),
    create=extend_schema(summary="Draft a post", request=PostWriteSerializer),
    update=extend_schema(summary="Edit a post (an approved one goes back to review)", request=PostUpdateSerializer),
    partial_update=extend_schema(summary="Edit some fields of a post", request=PostUpdateSerializer),
)
class PostViewSet(ServiceCreateMixin, ServiceUpdateMixin, ServiceViewSet):
    """Posts. Transitions are actions: submit, approve, request-changes, schedule, cancel, checks."""

    queryset = (Post.objects.select_related("unit", "author")
                .prefetch_related("variants__account", "approvals__user", "media"))
    serializer_class = PostSerializer
    write_serializers = {"create": PostWriteSerializer, "update": PostUpdateSerializer,
                         "partial_update": PostUpdateSerializer}
    service_calls = {"create": services.create_post, "update": services.update_post}
    filterset_fields = ["state"]
    search_fields = ["title", "text"]
    ordering_fields = ["created_at", "scheduled_at", "state"]
    ordering = ["-created_at"]
    lookup_value_regex = r"\d+"
    create_permission = services.PERM_ADD
    create_denied_message = "You may not draft posts."
    write_action = "change"

    def service_data(self, data: dict) -> dict:
        serializer = self.get_serializer_class()()
        return serializer.to_service(dict(data))

    def _act(self, perm: str):
        post = self.get_object()
        if not has_perm(self.request.user, perm, post.unit):
            raise PermissionDenied(_("You may not do this on this post."))
        return post

    @extend_schema(request=None, responses=PostSerializer, summary="Submit a draft (the checks run first)")
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        post = self._act(services.PERM_CHANGE)
        return self.respond(services.submit_post(post, actor=request.user))

    @extend_schema(request=CommentSerializer, responses=PostSerializer, summary="Approve the current step")
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        post = self._act(services.PERM_APPROVE)
        data = self.validated(CommentSerializer)
        return self.respond(services.approve_post(post, actor=request.user, comment=data["comment"]))

    @extend_schema(request=CommentSerializer, responses=PostSerializer, summary="Send back with changes to make")
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request, pk=None):
        post = self._act(services.PERM_APPROVE)
        data = self.validated(CommentSerializer)
        return self.respond(services.request_changes(post, actor=request.user, comment=data["comment"]))

    @extend_schema(request=ScheduleSerializer, responses=PostSerializer, summary="Schedule an approved post")
    @action(detail=True, methods=["post"])
    def schedule(self, request, pk=None):
        post = self._act(services.PERM_CHANGE)
        data = self.validated(ScheduleSerializer)
        return self.respond(services.schedule_post(post, actor=request.user,
                                                   scheduled_local=data["scheduled_local"]))

    @extend_schema(request=CommentSerializer, responses=PostSerializer, summary="Cancel a post")
    @extend_schema(request=None, responses=PostSerializer, summary="Add to queue (the unit's next free slot)")
    @action(detail=True, methods=["post"])
    def queue(self, request, pk=None):
        """Add to queue: the next free posting slot of the post's unit (an approved post is scheduled there)."""
        post = self._act(services.PERM_CHANGE)
        return self.respond(services.queue_post(post, actor=request.user))

    @extend_schema(responses=inline_serializer("ShortLinkClicks", many=True, fields={
        "code": drf_serializers.CharField(), "url": drf_serializers.CharField(),
        "target_url": drf_serializers.CharField(), "account": drf_serializers.IntegerField(),
        "clicks": drf_serializers.IntegerField(), "last_click_at": drf_serializers.DateTimeField(allow_null=True)}),
        summary="The post's short links and their clicks")
    @action(detail=True, methods=["get"], pagination_class=None)
    def links(self, request, pk=None):
        """The post's short links and their clicks."""
        post = self.get_object()
        return Response([{"code": link.code, "url": link.path, "target_url": link.target_url,
                          "account": link.variant.account_id, "clicks": link.clicks,
                          "last_click_at": link.last_click_at} for link in services.post_clicks(post)])

    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        post = self._act(services.PERM_CHANGE)
        data = self.validated(CommentSerializer)
        return self.respond(services.cancel_post(post, actor=request.user, reason=data["comment"]))

    @extend_schema(request={"multipart/form-data": PostImportSerializer},
                   responses={201: PostImportResultSerializer, 422: PostImportErrorSerializer},
                   summary="Bulk scheduling from CSV: every line a post, all or nothing (422 lists the bad lines)")
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser, FormParser])
    def import_csv(self, request):
        self.require(services.PERM_ADD)
        data = self.validated(PostImportSerializer)
        upload = data["file"]
        try:
            if upload.size > importing.max_bytes():
                raise importing.ImportInvalid(_("The file is too large."), errors=[importing.LineError(
                    0, "file", f"The file is larger than {importing.max_bytes() // 1024} KB.")])
            result = importing.import_posts_csv(actor=request.user, unit=data["unit"], data=upload.read(),
                                                submit=data["submit"])
        except importing.ImportInvalid as err:
            return Response({"detail": err.message, "code": err.code,
                             "errors": [e.as_dict() for e in err.errors]}, status=422)
        return Response({"posts": [p.pk for p in result.posts], "by_state": result.by_state},
                        status=status.HTTP_201_CREATED)

    @extend_schema(request={"multipart/form-data": MediaInputSerializer}, responses={201: PostSerializer},
                   summary="Attach an image with its alt text (required); the post goes back to review if it was "
                           "past draft")
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def media(self, request, pk=None):
        post = self._act(services.PERM_CHANGE)
        data = self.validated(MediaInputSerializer)
        upload = data["file"]
        if upload.size > media.MAX_IMAGE_BYTES:
            raise InvalidPost(_("%(name)s is larger than 8 MB.") % {"name": upload.name[:80]}, field="file")
        media.add_media(post, actor=request.user, data=upload.read(), name=upload.name, alt_text=data["alt_text"])
        post = self.get_queryset().get(pk=post.pk)
        return self.respond(post, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=CheckResultSerializer(many=True), summary="Run the guideline checks")
    @action(detail=True, methods=["post"])
    def checks(self, request, pk=None):
        post = self._act(services.PERM_CHANGE)
        results = services.run_post_checks(post)
        return self.respond(results, serializer_class=lambda r, **kw: CheckResultSerializer(r, many=True, **kw))


class GuidelineRuleViewSet(ServiceModelViewSet):
    """The hub's guideline rules (each applies to its unit's subtree)."""

    queryset = GuidelineRule.objects.select_related("unit")
    serializer_class = GuidelineRuleSerializer
    service_calls = {"create": services.create_rule, "update": services.update_rule,
                     "destroy": services.delete_rule}
    lookup_value_regex = r"\d+"
    create_permission = "publishing.add_guidelinerule"
    create_denied_message = "You may not write guideline rules."
    write_action = "change"


class WorkflowViewSet(ServiceModelViewSet):
    """Approval workflows: a unit subtree, ordered steps (a role; any or all of its holders)."""

    queryset = Workflow.objects.select_related("unit").prefetch_related("steps")
    serializer_class = WorkflowSerializer
    service_calls = {"create": services.create_workflow, "update": services.update_workflow,
                     "destroy": services.delete_workflow}
    lookup_value_regex = r"\d+"
    create_permission = "publishing.add_workflow"
    create_denied_message = "You may not write workflows."
    write_action = "change"

    def service_data(self, data: dict) -> dict:
        if "steps" in data:
            data["steps"] = [dict(s) for s in data["steps"]]
        return data


class CrisisPauseViewSet(ServiceCreateMixin, ServiceViewSet):
    """Crisis pauses: create one to hold every scheduled post of a subtree; ``resume`` ends it."""

    queryset = CrisisPause.objects.select_related("unit", "started_by", "ended_by")
    serializer_class = CrisisPauseSerializer
    service_calls = {"create": services.pause_subtree}
    lookup_value_regex = r"\d+"
    create_permission = services.PERM_PAUSE
    create_denied_message = "You may not pause publishing."

    @extend_schema(request=None, responses=CrisisPauseSerializer, summary="End the pause")
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        pause = self.get_object()
        if not has_perm(request.user, services.PERM_RESUME, pause.unit):
            raise PermissionDenied(_("You may not resume this pause."))
        services.resume_pause(pause, actor=request.user)
        pause.refresh_from_db()
        return self.respond(pause, status.HTTP_200_OK)


class CampaignViewSet(ServiceCreateMixin, ServiceViewSet):
    """Campaigns the caller's units run: create one for spokes below its unit; each spoke's progress is under
    ``campaign-spokes/``."""

    queryset = Campaign.objects.select_related("unit", "created_by").prefetch_related("spokes")
    serializer_class = CampaignSerializer
    write_serializers = {"create": CampaignWriteSerializer}
    service_calls = {"create": campaigns.create_campaign}
    lookup_value_regex = r"\d+"
    create_permission = campaigns.PERM_ADD_CAMPAIGN
    create_denied_message = "You may not create campaigns."


class CampaignSpokeViewSet(ServiceViewSet):
    """One spoke's part in a campaign (visible to the spoke and to the units above it) with its status in the
    matrix; the spoke localises or declines, the campaign's owner nudges. Filter by ``campaign`` for the
    matrix of one campaign."""

    queryset = CampaignSpoke.objects.select_related("unit", "campaign", "campaign__unit")
    serializer_class = CampaignSpokeSerializer
    filterset_fields = ["campaign"]
    lookup_value_regex = r"\d+"

    @extend_schema(request=LocaliseSerializer, responses={201: PostSerializer},
                   summary="Draft the spoke's own post of the campaign (its master post unless a text is given)")
    @action(detail=True, methods=["post"])
    def localise(self, request, pk=None):
        row = self.get_object()
        self.require(services.PERM_ADD, row.unit)
        data = LocaliseSerializer().to_service(self.validated(LocaliseSerializer))
        post = campaigns.localise_campaign(row, actor=request.user, **data)
        return self.respond(post, status.HTTP_201_CREATED, serializer_class=PostSerializer)

    @extend_schema(request=ReasonSerializer, responses=CampaignSpokeSerializer,
                   summary="The spoke declines the campaign (a reason is required)")
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        row = self.get_object()
        if not has_perm(request.user, campaigns.PERM_DECLINE, row.unit):
            raise PermissionDenied(_("You may not decline for this spoke."))
        data = self.validated(ReasonSerializer)
        return self.respond(campaigns.decline_campaign(row, actor=request.user, reason=data["reason"]))

    @extend_schema(request=ReasonSerializer, responses=CampaignSpokeSerializer,
                   summary="The campaign's owner nudges a spoke that has something left to do")
    @action(detail=True, methods=["post"])
    def nudge(self, request, pk=None):
        row = self.get_object()
        if not has_perm(request.user, campaigns.PERM_CHANGE_CAMPAIGN, row.campaign.unit):
            raise PermissionDenied(_("You may not nudge this spoke."))
        data = self.validated(ReasonSerializer)
        return self.respond(campaigns.nudge_spoke(row, actor=request.user, message=data["reason"]))


@extend_schema_view(
    list=extend_schema(summary="The advocacy library you may share, and the items you manage"),
    create=extend_schema(summary="Add an item (an approved post, or a link with suggested texts) to a library",
                         request=AdvocacyItemWriteSerializer),
    partial_update=extend_schema(summary="Edit or withdraw an item", request=AdvocacyItemUpdateSerializer),
)
class AdvocacyItemViewSet(ServiceCreateMixin, ServiceUpdateMixin, ServiceViewSet):
    """Employee advocacy: items of the libraries at or above your units (to share) and of your units (to manage);
    ``share`` posts one to your own linked account; ``stats`` counts shares and clicks per spoke."""

    queryset = AdvocacyItem.objects.select_related("unit", "post", "created_by")
    serializer_class = AdvocacyItemSerializer
    write_serializers = {"create": AdvocacyItemWriteSerializer, "update": AdvocacyItemUpdateSerializer,
                         "partial_update": AdvocacyItemUpdateSerializer}
    service_calls = {"create": advocacy.create_item, "update": advocacy.update_item}
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = r"\d+"
    create_permission = advocacy.PERM_ADD
    create_denied_message = "You may not add to an advocacy library."
    write_action = "change"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AdvocacyItem.objects.none()
        user = self.request.user
        library = advocacy.library_for(user).values("pk")
        managed = AdvocacyItem.objects.restrict(user, "view").values("pk")
        return self.queryset.filter(Q(pk__in=library) | Q(pk__in=managed)).order_by("-created_at", "id")

    @extend_schema(request=ShareInputSerializer, responses={201: AdvocacyShareSerializer},
                   summary="Share the item to one of your own linked accounts (suggested text, editable)")
    @action(detail=True, methods=["post"])
    def share(self, request, pk=None):
        item = self.get_object()
        self.require(advocacy.PERM_SHARE)
        data = self.validated(ShareInputSerializer)
        account = PersonalAccount.objects.filter(pk=data["account"], user=request.user).select_related(
            "unit").first()
        if account is None:
            raise drf_serializers.ValidationError({"account": ["Not one of your linked accounts."]})
        share = advocacy.share_item(item, actor=request.user, account=account, text=data["text"])
        return self.respond(share, status.HTTP_201_CREATED, serializer_class=AdvocacyShareSerializer)

    @extend_schema(responses=SpokeCountSerializer(many=True), summary="Shares and clicks per spoke")
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def stats(self, request, pk=None):
        item = self.get_object()
        rows = advocacy.item_stats(item, actor=request.user)
        return Response(SpokeCountSerializer(rows, many=True).data)


class PersonalAccountViewSet(ServiceCreateMixin, ServiceViewSet):
    """Your own accounts on the networks, linked to share the advocacy library (only yours are listed)."""

    queryset = PersonalAccount.objects.select_related("unit")
    serializer_class = PersonalAccountSerializer
    service_calls = {"create": advocacy.register_personal_account}
    lookup_value_regex = r"\d+"
    create_permission = advocacy.PERM_SHARE
    create_denied_message = "You may not share advocacy content."

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PersonalAccount.objects.none()
        return self.queryset.filter(user=self.request.user)

    @extend_schema(request=None, responses=PersonalAccountSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Disconnect this account of yours: its token is erased and nothing is shared through it any more."""
        return self.respond(advocacy.revoke_personal_account(self.get_object(), actor=request.user))


class PublishingSettingsViewSet(ServiceViewSet):
    """A unit's publishing settings (UTM defaults, link shortening and the short links' base, posting slots), by
    the unit's id: read with ``view_publishingsettings`` on the unit, written (``PUT``/``PATCH``, through
    ``services.update_settings``) with ``change_publishingsettings``. The list holds the rows you may view."""

    queryset = PublishingSettings.objects.select_related("unit")
    serializer_class = PublishingSettingsSerializer
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "put", "patch", "head", "options"]

    @staticmethod
    def _data(unit) -> dict:
        conf = links.settings_for(unit)
        return {"unit": unit.pk, "inherited_from": conf.unit_id if conf else None,
                "utm": conf.utm if conf else {}, "shorten_links": bool(conf and conf.shorten_links),
                "short_link_base": conf.short_link_base if conf else "", "slots": conf.slots if conf else [],
                "timezone": conf.timezone if conf else ""}

    def _unit(self, perm: str):
        unit = OrgUnit.objects.restrict(self.request.user, "view").filter(pk=self.kwargs["pk"]).first()
        if unit is None:
            raise NotFound()
        self.require(perm, unit)
        return unit

    def list(self, request, *args, **kwargs):
        rows = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(rows)
        data = [self._data(conf.unit) for conf in (page if page is not None else rows)]
        return self.get_paginated_response(data) if page is not None else Response(data)

    @extend_schema(summary="A unit's effective publishing settings (its own or inherited)")
    def retrieve(self, request, *args, **kwargs):
        return Response(self._data(self._unit("publishing.view_publishingsettings")))

    @extend_schema(request=PublishingSettingsSerializer, responses=PublishingSettingsSerializer,
                   summary="Set a unit's publishing settings (its subtree inherits them)")
    def update(self, request, *args, partial: bool = False, **kwargs):
        unit = self._unit(services.PERM_SETTINGS)
        data = self.validated(PublishingSettingsSerializer, partial=partial)
        services.update_settings(unit, actor=request.user, utm=data.get("utm"),
                                 shorten_links=data.get("shorten_links"), short_link_base=data.get("short_link_base"),
                                 slots=[dict(s) for s in data["slots"]] if "slots" in data else None,
                                 timezone_name=data.get("timezone"))
        return Response(self._data(unit))

    @extend_schema(request=PublishingSettingsSerializer, responses=PublishingSettingsSerializer,
                   summary="Set some of a unit's publishing settings")
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)
