"""WSGI entry point."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dandelion.config.settings")
application = get_wsgi_application()

# a web process: its database connections carry the requests' statement timeout from when they open
from dandelion.core.middleware import bind_web_connections

bind_web_connections()
