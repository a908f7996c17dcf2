from django.db import models


class UnitKind(models.TextChoices):
    HUB = "hub", "Hub"
    REGION = "region", "Region"
    COUNTRY = "country", "Country"
    BUSINESS_UNIT = "business_unit", "Business unit"
    AGENCY = "agency", "Agency"
    VENDOR = "vendor", "External vendor"


class TeamKind(models.TextChoices):
    COMMUNITY = "community", "Community management"
    HELPERS = "helpers", "Customer helpers"
    MODERATION = "moderation", "External moderation"
    PR = "pr", "PR / reputation"
    ANALYSTS = "analysts", "Analysts"


class Role(models.TextChoices):
    HUB_ADMIN = "hub_admin", "Hub admin"
    SPOKE_ADMIN = "spoke_admin", "Spoke admin"
    COMMUNITY_MANAGER = "community_manager", "Community manager"
    HELPER_AGENT = "helper_agent", "Helper agent"
    EXTERNAL_MODERATOR = "external_moderator", "External moderator"
    PR_MANAGER = "pr_manager", "PR manager"
    ANALYST = "analyst", "Analyst (read-only)"
