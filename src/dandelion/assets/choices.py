from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    DORMANT = "dormant", _("Dormant")
    ARCHIVED = "archived", _("Archived")
    UNCLAIMED = "unclaimed", _("Unclaimed")


class HealthFlag(models.TextChoices):
    NO_OWNER = "no_owner", _("No owner")
    OWNER_DEACTIVATED = "owner_deactivated", _("Owner deactivated")
    OWNER_LEFT = "owner_left", _("Owner left: transfer it")
    CREDENTIALS_EXPIRING = "credentials_expiring", _("Credentials expiring")
    CREDENTIALS_EXPIRED = "credentials_expired", _("Credentials expired")
    DORMANT = "dormant", _("Dormant")
    CONNECTOR_ERROR = "connector_error", _("Connector error")


#: How loud each health flag is shown (``chip bad`` / ``chip warn``).
HEALTH_SEVERITY: dict[str, str] = {
    HealthFlag.NO_OWNER: "bad",
    HealthFlag.OWNER_DEACTIVATED: "bad",
    HealthFlag.OWNER_LEFT: "bad",
    HealthFlag.CREDENTIALS_EXPIRED: "bad",
    HealthFlag.CONNECTOR_ERROR: "bad",
    HealthFlag.CREDENTIALS_EXPIRING: "warn",
    HealthFlag.DORMANT: "warn",
}

#: Statuses that can be set directly (archiving goes through ``archive_account``).
SETTABLE_STATUSES = (AccountStatus.ACTIVE, AccountStatus.DORMANT, AccountStatus.UNCLAIMED)

#: ISO 639-1 two-letter language codes.
ISO_639_1 = frozenset(
    ["aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bi", "bm", "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da", "de", "dv", "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr", "fy", "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz", "ia", "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj", "kk", "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln", "lo", "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "na", "nb", "nd", "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os", "pa", "pi", "pl", "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk", "sl", "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti", "tk", "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo", "wa", "wo", "xh", "yi", "yo", "za", "zh", "zu"]
)
