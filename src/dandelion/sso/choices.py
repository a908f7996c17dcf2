from django.db import models


class Protocol(models.TextChoices):
    OIDC = "oidc", "OpenID Connect"
    SAML = "saml", "SAML 2.0"


class SignInOutcome(models.TextChoices):
    OK = "ok", "Signed in"
    REFUSED = "refused", "Refused"


#: The claims a rule may test (a string claim equals the value; a list claim contains it).
COMMON_CLAIMS = ("groups", "roles", "email_domain", "department", "hd")
