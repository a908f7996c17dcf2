"""``dandelion create-token USERNAME``: print an API token for a user (created once, then reused)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token

from dandelion.core import audit
from dandelion.core.actors import SYSTEM


class Command(BaseCommand):
    help = "Print the API token of USERNAME (creates one if needed). Use: Authorization: Token <key>."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--rotate", action="store_true", help="Replace an existing token with a new one.")

    def handle(self, *args, username: str, rotate: bool = False, **options):
        User = get_user_model()
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist as exc:
            raise CommandError(f"No user named {username!r}.") from exc
        if rotate:
            Token.objects.filter(user=user).delete()
        token, created = Token.objects.get_or_create(user=user)
        if created:
            audit.record(actor=SYSTEM, action="core.token.create", obj=None, summary=f"API token created for {username}")
        self.stdout.write(token.key)
