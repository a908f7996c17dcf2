"""Signals the organisation sends inside its services' transactions, for apps above it to react in the same
transaction (``orgs`` imports no app: the registry subscribes from its ``AppConfig.ready``).

* ``person_deactivated(sender, user, actor, reason)``: a person was deactivated (a leaver), by hand, by SCIM or by
  the identity provider. Receivers run inside the deactivation's transaction: a failing receiver rolls it back.
"""

from django.dispatch import Signal

person_deactivated = Signal()
