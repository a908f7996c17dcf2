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
