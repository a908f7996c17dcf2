"""``dandelion rotate-credentials``: re-encrypt every stored secret with the newest encryption key.

Key rotation: prepend a new key to DANDELION_ENCRYPTION_KEYS (keep the old ones after it), run this command,
then drop the old keys. Safe to run twice or to interrupt (each batch commits on its own).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from dandelion.assets.crypto import CredentialsError, cipher
from dandelion.assets.services import rotate_encryption_keys
from dandelion.core.actors import SYSTEM


class Command(BaseCommand):
    help = "Re-encrypt every account's credentials and webhook secret with the newest DANDELION_ENCRYPTION_KEYS key."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int = 500, **options):
        try:
            cipher()
        except CredentialsError as exc:
            raise CommandError(str(exc)) from exc
        result = rotate_encryption_keys(actor=SYSTEM, batch_size=batch_size)
        self.stdout.write(
            f"Re-encrypted {result.accounts} accounts: {result.credentials} credentials, "
            f"{result.webhook_secrets} webhook secrets."
        )
        if result.failed:
            ids = ", ".join(str(pk) for pk in result.failed[:20])
            raise CommandError(
                f"{len(result.failed)} accounts have secrets no configured key can decrypt (ids: {ids}"
                f"{' …' if len(result.failed) > 20 else ''}); keep the old key until they are fixed."
            )
