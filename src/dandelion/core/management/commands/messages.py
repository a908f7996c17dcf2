"""``dandelion messages [APP ...]``: extract and compile the translation catalogues of the translated apps.

For each app (default: every app of :data:`dandelion.core.i18n.TRANSLATED_APPS`), runs Django's ``makemessages``
in the app's directory for every language but the source one (``src/dandelion/<app>/locale/<lang>/LC_MESSAGES/
django.po``), then ``compilemessages`` next to it (``django.mo``, committed: nothing compiles at run time).
Needs GNU gettext (``xgettext``, ``msgmerge``, ``msgfmt``). ``--compile-only`` skips the extraction.
"""

from __future__ import annotations

import os

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from dandelion.core import i18n


class Command(BaseCommand):
    help = "Extract (makemessages) and compile (compilemessages) the catalogues of the translated apps."

    def add_arguments(self, parser):
        parser.add_argument("apps", nargs="*", help="app labels (default: every translated app)")
        parser.add_argument("--compile-only", action="store_true", help="compile the .po files, extract nothing")

    def handle(self, *args, apps, compile_only, **options):
        labels = apps or list(i18n.TRANSLATED_APPS)
        unknown = [label for label in labels if not i18n.app_dir(label).is_dir()]
        if unknown:
            raise CommandError(f"no such app: {', '.join(unknown)}")
        missing = [label for label in labels if label not in i18n.TRANSLATED_APPS]
        if missing:
            raise CommandError(f"not in dandelion.core.i18n.TRANSLATED_APPS (add them first): {', '.join(missing)}")
        locales = i18n.translation_languages()
        here = os.getcwd()
        for label in labels:
            i18n.locale_dir(label).mkdir(exist_ok=True)
            os.chdir(i18n.app_dir(label))  # makemessages and compilemessages work on the current directory
            try:
                if not compile_only:
                    call_command("makemessages", locale=locales, verbosity=options["verbosity"],
                                 **i18n.MAKEMESSAGES_OPTIONS)
                call_command("compilemessages", locale=locales, verbosity=options["verbosity"])
            finally:
                os.chdir(here)
            self.stdout.write(f"{label}: {', '.join(locales)}")
