"""Dandelion settings: one module, driven by the environment (django-environ).

Embedded default: SQLite under ``var/`` and the database-backed task backend, so a bare machine runs the demo.
Scale-out: ``DATABASE_URL=postgres://...`` and ``DANDELION_TASK_BACKEND=celery`` with ``CELERY_BROKER_URL``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import environ

SRC_DIR = Path(__file__).resolve().parent.parent  # src/dandelion
BASE_DIR = SRC_DIR.parent.parent  # repository root
env = environ.Env()

VAR_DIR = Path(env.str("DANDELION_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else generated once and kept under var/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "dandelion.core",
    "dandelion.orgs",
    "dandelion.assets",
    "dandelion.connectors",
    "dandelion.understanding",
    "dandelion.inbox",
    "dandelion.routing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dandelion.core.middleware.RequestContextMiddleware",
    "dandelion.core.middleware.StatementTimeoutMiddleware",
]

ROOT_URLCONF = "dandelion.config.urls"
WSGI_APPLICATION = "dandelion.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dandelion.core.context_processors.navigation",
                "dandelion.orgs.context_processors.guidelines",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'dandelion.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the web server and the worker share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DATABASES["default"].setdefault("TEST", {})
if os.environ.get("DANDELION_TEST_DB_NAME"):
    DATABASES["default"]["TEST"]["NAME"] = os.environ["DANDELION_TEST_DB_NAME"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Uploads: CSV imports are bounded; larger requests are refused before they are read.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
DANDELION_MAX_IMPORT_BYTES = env.int("DANDELION_MAX_IMPORT_BYTES", default=2 * 1024 * 1024)

# Credentials at rest: a list of Fernet keys, newest first (MultiFernet). Rotation: prepend a new key,
# run `dandelion rotate-credentials`, then drop the old key.
DANDELION_ENCRYPTION_KEYS = env.list("DANDELION_ENCRYPTION_KEYS", default=[])

# Health flags on the account registry.
DANDELION_DORMANT_AFTER_DAYS = env.int("DANDELION_DORMANT_AFTER_DAYS", default=30)
# Bounded counts of lists (dandelion.core.paging): past these, a list reads "N+" and is not counted further.
DANDELION_COUNT_LIMIT = env.int("DANDELION_COUNT_LIMIT", default=10_000)
DANDELION_SCREEN_COUNT_LIMIT = env.int("DANDELION_SCREEN_COUNT_LIMIT", default=1_000)
# PostgreSQL: no statement of a web request runs longer than this (seconds; 0: no limit). A search or filter the
# indexes cannot serve then ends with a clear 503 instead of holding a connection and a core for minutes. Background
# jobs and management commands (migrations building indexes on big tables) are not bound by it.
DANDELION_REQUEST_STATEMENT_TIMEOUT = env.float("DANDELION_REQUEST_STATEMENT_TIMEOUT", default=30.0)
DANDELION_SEARCH_COUNT_LIMIT = env.int("DANDELION_SEARCH_COUNT_LIMIT", default=1_000)
DANDELION_CREDENTIALS_EXPIRY_WARNING_DAYS = env.int("DANDELION_CREDENTIALS_EXPIRY_WARNING_DAYS", default=14)
# Retention of operational rows (dandelion.core.retention; the hourly job "core.retention"), in days; 0 keeps them
# forever. Messages, conversations, contacts and the audit log are never deleted by it.
DANDELION_RETAIN_DELIVERIES_DAYS = env.int("DANDELION_RETAIN_DELIVERIES_DAYS", default=14)
DANDELION_RETAIN_FAILED_DELIVERIES_DAYS = env.int("DANDELION_RETAIN_FAILED_DELIVERIES_DAYS", default=90)
DANDELION_RETAIN_JOB_RESULTS_DAYS = env.int("DANDELION_RETAIN_JOB_RESULTS_DAYS", default=14)
DANDELION_RETAIN_FAILED_JOB_RESULTS_DAYS = env.int("DANDELION_RETAIN_FAILED_JOB_RESULTS_DAYS", default=30)
DANDELION_RETAIN_PERIODIC_RUNS_DAYS = env.int("DANDELION_RETAIN_PERIODIC_RUNS_DAYS", default=7)
# at most this many rows per policy and run (a backlog is worked off over several runs), this many a transaction
DANDELION_RETENTION_MAX_ROWS = env.int("DANDELION_RETENTION_MAX_ROWS", default=1_000_000)
DANDELION_RETENTION_CHUNK = env.int("DANDELION_RETENTION_CHUNK", default=1_000)

# Background work: Django's tasks API. "database" (embedded default) or "celery" (scale-out).
DANDELION_TASK_BACKEND = env.str("DANDELION_TASK_BACKEND", default="database")
if DANDELION_TASK_BACKEND == "celery":
    TASKS = {"default": {"BACKEND": "dandelion.core.tasks_celery.CeleryBackend"}}
elif DANDELION_TASK_BACKEND == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "dandelion.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "dandelion.api.schema.DandelionAutoSchema",
    "EXCEPTION_HANDLER": "dandelion.api.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Dandelion API",
    "DESCRIPTION": "Hub-and-spoke social media operations: organisation, accounts, inbox, routing.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "UnitKindEnum": "dandelion.orgs.choices.UnitKind",
        "TeamKindEnum": "dandelion.orgs.choices.TeamKind",
        # an account's status as read (as a client sets it: SocialAccountStatusEnum, archiving is its own action)
        "AccountStatusEnum": "dandelion.assets.choices.AccountStatus",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.request": {"level": "ERROR"}, "django.server": {"level": "WARNING"}},
}

DANDELION_DATASETS = env.str("DANDELION_DATASETS", default=str(BASE_DIR.parent / "shared" / "datasets"))
