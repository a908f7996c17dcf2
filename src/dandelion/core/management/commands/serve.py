"""``dandelion serve``: serve the web UI and API with waitress (a production WSGI server, pure Python)."""

from __future__ import annotations

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Dandelion over HTTP (waitress). Static files are served by WhiteNoise."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args, **options):
        from django.core.wsgi import get_wsgi_application
        from waitress import serve

        from dandelion.core.middleware import bind_web_connections

        application = get_wsgi_application()  # what the WSGI entry point (config/wsgi.py) serves
        bind_web_connections()

        self.stdout.write(f"Dandelion serving on http://{options['host']}:{options['port']}/")
        serve(application, host=options["host"], port=options["port"], threads=options["threads"],
              ident="dandelion", max_request_body_size=10 * 1024 * 1024)
