from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    HUB = "hub", _("Hub")
    REGION = "region", _("Region")
    COUNTRY = "country", _("Country")
    BUSINESS_UNIT = "business_unit", _("Business unit")
    AGENCY = "agency", _("Agency")
    VENDOR = "vendor", _("External vendor")


class TeamKind(models.TextChoices):
    COMMUNITY = "community", _("Community management")
    HELPERS = "helpers", _("Customer helpers")
    MODERATION = "moderation", _("External moderation")
    PR = "pr", _("PR / reputation")
    ANALYSTS = "analysts", _("Analysts")


class Role(models.TextChoices):
    HUB_ADMIN = "hub_admin", _("Hub admin")
    SPOKE_ADMIN = "spoke_admin", _("Spoke admin")
    COMMUNITY_MANAGER = "community_manager", _("Community manager")
    HELPER_AGENT = "helper_agent", _("Helper agent")
    EXTERNAL_MODERATOR = "external_moderator", _("External moderator")
    PR_MANAGER = "pr_manager", _("PR manager")
    ANALYST = "analyst", _("Analyst (read-only)")
