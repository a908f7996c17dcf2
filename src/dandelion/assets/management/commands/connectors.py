"""``dandelion connectors check ACCOUNT``: test an account's connector (config, credentials, capabilities) and print
what works, without sending anything. ``dandelion connectors list`` prints the registered connectors.

ACCOUNT is an account id, or its external id or handle (``support@example.com``, ``@brand``). Works for every
connector through the registry: those that reach a network (e-mail, feeds) log in and read; the others check
their config. The exit status is 1 when a check failed.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q


class Command(BaseCommand):
    help = "Check an account's connector (config, credentials, capabilities) or list the connectors."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check", help="Test an account's credentials and capabilities (nothing is sent).")
        check.add_argument("account", help="Account id, external id or handle.")
        sub.add_parser("list", help="List the registered connectors and their capabilities.")

    def handle(self, *args, **options):
        from dandelion.connectors import registry

        if options["action"] == "list":
            for connector in registry.all_connectors():
                interval = f", polled every {connector.poll_interval_s}s" if connector.poll_interval_s else ""
                self.stdout.write(f"{connector.key:10} {connector.label} "
                                  f"[{', '.join(sorted(connector.capabilities)) or '-'}{interval}]")
            return
        account = self._account(options["account"])
        self._check(account)

    def _account(self, value: str):
        from dandelion.assets.models import SocialAccount

        q = Q(external_id=value) | Q(handle=value) | Q(handle=f"@{value.lstrip('@')}")
        if value.isdigit():
            q |= Q(pk=int(value))
        matches = list(SocialAccount.objects.filter(q).order_by("pk")[:5])
        if not matches:
            raise CommandError(f"no account matches {value!r}")
        if len(matches) > 1:
            listed = ", ".join(f"#{a.pk} {a}" for a in matches)
            raise CommandError(f"{value!r} matches several accounts ({listed}): give the id")
        return matches[0]

    def _check(self, account) -> None:
        from dandelion.assets.tokens import AccountTokenStore
        from dandelion.connectors import registry
        from dandelion.connectors.base import AccountRef
        from dandelion.connectors.errors import UnknownConnector

        ref = AccountRef(
            id=account.pk, network=account.network, external_id=account.external_id, handle=account.handle,
            credentials=account.credentials if account.has_credentials else {},
            config=dict(account.connector_config or {}), connector=account.connector or "",
            credentials_version=account.credentials_version, token_store=AccountTokenStore(account.pk),
        )
        self.stdout.write(f"Account #{account.pk} {account} — status {account.status}")
        try:
            connector = registry.connector_for(ref)
        except UnknownConnector as exc:
            raise CommandError(str(exc)) from exc
        capabilities = connector.capabilities_for(ref.config)
        self.stdout.write(f"Connector: {connector.key} ({connector.label})")
        self.stdout.write(f"Capabilities: {', '.join(sorted(capabilities)) or 'none'}"
                          + (f" (declared, not for this config: {', '.join(sorted(connector.capabilities - capabilities))})"
                             if connector.capabilities - capabilities else ""))
        if account.credentials_keys:
            self.stdout.write(f"Credentials stored: {', '.join(account.credentials_keys)}")
        if account.last_error:
            self.stdout.write(f"Last error: {account.last_error}")
        if account.poll_state:
            self.stdout.write(f"Polling cursor: {', '.join(sorted(account.poll_state))}"
                              + (f"; last polled {account.last_polled_at:%Y-%m-%d %H:%M:%S}"
                                 if account.last_polled_at else ""))
        failed = 0
        for result in connector.check(ref):
            mark = self.style.SUCCESS("ok  ") if result.ok else self.style.ERROR("FAIL")
            failed += not result.ok
            self.stdout.write(f"  {mark} {result.name}: {result.detail}")
        if failed:
            raise CommandError(f"{failed} check(s) failed", returncode=1)
        self.stdout.write(self.style.SUCCESS("All checks passed."))
