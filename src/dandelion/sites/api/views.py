"""``/api/v1/sites/``: the websites over REST. Reads are restricted to the caller's scope; creating a site (the hub)
calls ``services.create_site``, the service the command and the UI use; ``sites/<id>/pages/`` lists a site's pages
with their status (read-only: pages are edited in Wagtail's admin)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from dandelion.api.viewsets import ServiceCreateMixin, ServiceViewSet
from dandelion.sites import services
from dandelion.sites.api.serializers import CreateSiteSerializer, SitePageSerializer, UnitSiteSerializer
from dandelion.sites.models import UnitSite


@extend_schema_view(
    list=extend_schema(summary="List the websites within your scope"),
    retrieve=extend_schema(summary="One website: its unit, template and version, hostname"),
    create=extend_schema(summary="Create a unit's website from a template (the hub)", request=CreateSiteSerializer),
)
class UnitSiteViewSet(ServiceCreateMixin, ServiceViewSet):
    """Units' websites. Pages are edited and published in Wagtail's admin (``/cms/``)."""

    queryset = UnitSite.objects.select_related("unit", "template", "site__root_page__locale")
    serializer_class = UnitSiteSerializer
    write_serializers = {"create": CreateSiteSerializer}
    ordering = ["site__hostname"]
    ordering_fields = ["site__hostname", "created_at"]
    lookup_value_regex = r"\d+"
    service_calls = {"create": services.create_site}
    create_permission = services.PERM_CREATE  # 403 before the input is read
    create_denied_message = "Only the hub creates websites."

    @extend_schema(summary="A website's pages and their status", responses=SitePageSerializer(many=True))
    @action(detail=True, methods=["get"])
    def pages(self, request, pk=None):
        website = self.get_object()
        qs = services.site_pages(website)
        page = self.paginate_queryset(qs)
        rows = services.page_statuses(website, page if page is not None else list(qs))
        data = SitePageSerializer(rows, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)
