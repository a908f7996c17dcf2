from django.db import models


class AssignmentMode(models.TextChoices):
    ROUND_ROBIN = "round_robin", "Round robin"
    CAPACITY = "capacity", "Least loaded under capacity"
    MANUAL = "manual", "Manual (stay in the team queue)"


class SlaMetric(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    NEXT_RESPONSE = "next_response", "Next response"
    RESOLUTION = "resolution", "Resolution"


class SlaStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    HIT = "hit", "Hit"
    MISSED = "missed", "Missed"
    CANCELLED = "cancelled", "Cancelled"


class Weekday(models.TextChoices):
    MON = "mon", "Monday"
    TUE = "tue", "Tuesday"
    WED = "wed", "Wednesday"
    THU = "thu", "Thursday"
    FRI = "fri", "Friday"
    SAT = "sat", "Saturday"
    SUN = "sun", "Sunday"


WEEKDAYS = [w.value for w in Weekday]  # index = datetime.weekday()
