from django.db import models
from django.utils.translation import gettext_lazy as _


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    MONITORING = "monitoring", _("Monitoring")
    CLOSED = "closed", _("Closed")


class IncidentSource(models.TextChoices):
    ALERT = "alert", _("Listening spike")
    MANUAL = "manual", _("Opened by hand")


class ResponderRole(models.TextChoices):
    OWNER = "owner", _("PR owner")
    COMMS = "comms", _("Comms lead")
    LEGAL = "legal", _("Legal")
    SPOKE_LEAD = "spoke_lead", _("Spoke lead")
    RESPONDER = "responder", _("Responder")


class LogKind(models.TextChoices):
    SYSTEM = "system", _("System")
    NOTE = "note", _("Note")
    ACTION = "action", _("Action")
    DECISION = "decision", _("Decision")


class IncidentKind(models.TextChoices):
    """What kind of crisis: it picks the playbook (a playbook of kind ``any`` fits every kind)."""

    GENERAL = "general", _("General")
    OUTAGE = "outage", _("Outage or service failure")
    PRODUCT = "product", _("Product safety or recall")
    BACKLASH = "backlash", _("Social media backlash")
    EXECUTIVE = "executive", _("Executive or employee conduct")
    DATA = "data", _("Data breach")


class PlaybookKind(models.TextChoices):
    ANY = "any", _("Any kind")
    GENERAL = IncidentKind.GENERAL.value, IncidentKind.GENERAL.label
    OUTAGE = IncidentKind.OUTAGE.value, IncidentKind.OUTAGE.label
    PRODUCT = IncidentKind.PRODUCT.value, IncidentKind.PRODUCT.label
    BACKLASH = IncidentKind.BACKLASH.value, IncidentKind.BACKLASH.label
    EXECUTIVE = IncidentKind.EXECUTIVE.value, IncidentKind.EXECUTIVE.label
    DATA = IncidentKind.DATA.value, IncidentKind.DATA.label
