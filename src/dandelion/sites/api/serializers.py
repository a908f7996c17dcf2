"""API shapes of the websites: a unit's site (its template and version, hostname, address) and its pages' status."""

from __future__ import annotations

from rest_framework import serializers

from dandelion.orgs.api.serializers import VisiblePrimaryKeyField
from dandelion.orgs.models import OrgUnit
from dandelion.sites.models import SiteTemplate, UnitSite


class UnitSiteSerializer(serializers.ModelSerializer):
    unit = VisiblePrimaryKeyField(OrgUnit)  # a unit outside the requester's scope "does not exist"
    template = serializers.SlugRelatedField(slug_field="name", queryset=SiteTemplate.objects.filter(is_active=True))
    hostname = serializers.CharField(max_length=253, source="site.hostname",
                                     help_text="The hostname the site answers on, e.g. fr.example.org.")
    port = serializers.IntegerField(source="site.port", min_value=1, max_value=65535, required=False, default=80)
    site_name = serializers.CharField(source="site.site_name", max_length=255, required=False, allow_blank=True,
                                      default="")
    template_version = serializers.IntegerField(read_only=True,
                                                help_text="The template version the site follows.")
    template_current_version = serializers.IntegerField(source="template.version", read_only=True)
    outdated = serializers.BooleanField(source="is_outdated", read_only=True)
    url = serializers.SerializerMethodField()
    locales = serializers.SerializerMethodField()

    class Meta:
        model = UnitSite
        fields = ["id", "unit", "template", "template_version", "template_current_version", "outdated", "hostname",
                  "port", "site_name", "url", "locales", "links_checked_at", "created_at", "updated_at"]
        read_only_fields = ["id", "links_checked_at", "created_at", "updated_at"]

    def get_url(self, obj: UnitSite) -> str:
        return obj.public_url()

    def get_locales(self, obj: UnitSite) -> list[str]:
        from dandelion.sites.services import site_locales

        return site_locales(obj)


class CreateSiteSerializer(UnitSiteSerializer):
    """The input of ``POST /api/v1/sites/``: what ``dandelion sites create`` takes."""

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        site = values.pop("site", {})
        return {**values, "hostname": site.get("hostname", ""), "port": site.get("port", 80),
                "site_name": site.get("site_name", "")}


class SitePageSerializer(serializers.Serializer):
    """One page of a site and where it stands: live, a draft waiting, in the hub's approval."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    slug = serializers.CharField()
    type = serializers.CharField(help_text="The page type, e.g. websitepage, blogpostpage.")
    locale = serializers.CharField()
    path = serializers.CharField(help_text="The page's address on its site.")
    url = serializers.CharField(help_text="The page's absolute address.")
    status = serializers.ChoiceField(choices=["live", "live + draft", "draft", "in moderation", "expired"])
    live = serializers.BooleanField()
    has_unpublished_changes = serializers.BooleanField()
    in_moderation = serializers.BooleanField()
    owner = serializers.IntegerField(allow_null=True)
    first_published_at = serializers.DateTimeField(allow_null=True)
    last_published_at = serializers.DateTimeField(allow_null=True)
