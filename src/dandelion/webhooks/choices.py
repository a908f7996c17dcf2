from django.db import models
from django.utils.translation import gettext_lazy as _


class SubscriptionState(models.TextChoices):
    ACTIVE = "active", _("Active")
    DISABLED = "disabled", _("Disabled")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")  # waiting for its (next) attempt
    SENDING = "sending", _("Sending")  # claimed by a worker
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")  # gave up: attempts exhausted, refused target, or subscription disabled


#: Statuses whose deliveries are finished (the log; retention may delete them).
FINISHED = (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED)
