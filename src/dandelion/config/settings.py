"""Dandelion settings: one module, driven by the environment (django-environ).

Embedded default: SQLite under ``var/`` and the database-backed task backend, so a bare machine runs the demo.
Scale-out: ``DATABASE_URL=postgres://...`` and ``DANDELION_TASK_BACKEND=celery`` with ``CELERY_BROKER_URL``.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF

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
LOCAL_HOSTS = ["127.0.0.1", "localhost", "testserver", "[::1]", ".localhost"]  # *.localhost: the demo's websites
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=LOCAL_HOSTS)
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
    "django.contrib.sitemaps",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "dandelion.core",
    "dandelion.orgs",
    "dandelion.assets",
    "dandelion.connectors",
    "dandelion.understanding",
    "dandelion.inbox",
    "dandelion.routing",
    "dandelion.notifications",
    "dandelion.webhooks",
    "dandelion.community",
    "dandelion.sso",
    "dandelion.publishing",
    "dandelion.analytics",
    "dandelion.listening",
    "dandelion.crisis",
    "dandelion.sites",
    # Wagtail (the websites factory, dandelion.sites; its admin under /cms/)
    "wagtail.contrib.sitemaps",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # the browser's language (Accept-Language) ...
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dandelion.core.middleware.UserPreferencesMiddleware",  # ... unless the person chose one; their time zone
    "dandelion.community.middleware.GuestAccessMiddleware",  # invited guests: their gathering's pages only
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dandelion.core.middleware.RequestContextMiddleware",
    "dandelion.core.middleware.StatementTimeoutMiddleware",
    "dandelion.sites.middleware.WebsiteHostMiddleware",  # spokes' hostnames are served their website (Wagtail)
    "axes.middleware.AxesMiddleware",  # last: turns a lockout raised during authentication into the lockout page
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
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dandelion.core.context_processors.navigation",
                "dandelion.orgs.context_processors.guidelines",
                "dandelion.sso.context_processors.login_providers",
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

# --- Accounts (docs/security.md) ----------------------------------------------------------------------------
# Django's full set of validators; every form that sets a password runs them (reset, invitation, admin,
# createsuperuser): the username or e-mail as password, short, common and all-digit passwords are refused.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.int("DANDELION_PASSWORD_MIN_LENGTH", default=10)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out username+address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "dandelion.sso.backends.LocalPasswordGate",  # refuses local passwords where single sign-on is required
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# A password-reset link is valid this long (seconds); an invitation link this many days (resending makes a new
# link and voids the earlier ones).
PASSWORD_RESET_TIMEOUT = env.int("DANDELION_PASSWORD_RESET_TIMEOUT", default=3 * 3600)
DANDELION_INVITATION_DAYS = env.int("DANDELION_INVITATION_DAYS", default=7)
# Publishing: how long a send claim holds before a dead worker's claim is taken over (docs/publishing.md).
DANDELION_PUBLISH_CLAIM_LEASE_S = env.int("DANDELION_PUBLISH_CLAIM_LEASE_S", default=300)
# The address people reach Dandelion at: links in e-mails sent outside a request (invitations) start with it.
DANDELION_BASE_URL = env.str("DANDELION_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
#: Publishing's short links (``/l/<code>``) under a short domain of their own that points at Dandelion; empty: under
#: DANDELION_BASE_URL.
PUBLISHING_SHORT_LINK_BASE = env.str("DANDELION_SHORT_LINK_BASE", default="").rstrip("/")

# Single sign-on (dandelion.sso, docs/sso.md). DANDELION_LOCAL_PASSWORDS=0 switches password sign-in off for
# everyone but superusers (the break-glass account); a provider can also switch it off for its own people.
DANDELION_LOCAL_PASSWORDS = env.bool("DANDELION_LOCAL_PASSWORDS", default=True)
DANDELION_SSO_HTTP_TIMEOUT = env.float("DANDELION_SSO_HTTP_TIMEOUT", default=10.0)
DANDELION_SSO_METADATA_SECONDS = env.int("DANDELION_SSO_METADATA_SECONDS", default=3600)
DANDELION_SSO_LEEWAY_SECONDS = env.int("DANDELION_SSO_LEEWAY_SECONDS", default=60)

# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username from one address,
# that pair is locked out for the cool-off period (a 429 page says so). Unlock: `dandelion axes-reset-username
# NAME`, `dandelion axes-reset`, or the admin's "Access attempts". API tokens never pass through it.
AXES_ENABLED = env.bool("DANDELION_LOGIN_THROTTLING", default=True)
AXES_FAILURE_LIMIT = env.int("DANDELION_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("DANDELION_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "dandelion.orgs.auth_views.locked_out"  # the styled 429 page
AXES_DISABLE_ACCESS_LOG = True  # failures are kept (AccessAttempt); successful logins are not logged twice
AXES_VERBOSE = False
AXES_USERNAME_FORM_FIELD = "username"

# E-mail: EMAIL_URL (smtp://user:password@host:587/?tls=True, smtp+ssl://..., consolemail://, filemail:///path)
# or the console backend by default, so a bare machine prints invitations and reset links in its log.
_email = env.email_url("EMAIL_URL", default="consolemail://")
globals().update(_email)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Dandelion <dandelion@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
EMAIL_SUBJECT_PREFIX = "[Dandelion] "

# --- Transport and browser security ---------------------------------------------------------------------------
# HTTPS is assumed whenever Dandelion is served beyond this machine without DEBUG (ALLOWED_HOSTS names another
# host): plain HTTP is redirected, HSTS is sent, cookies are Secure. DANDELION_HTTPS=0/1 says so explicitly.
DANDELION_HTTPS = env.bool("DANDELION_HTTPS", default=not DEBUG and not set(ALLOWED_HOSTS) <= set(LOCAL_HOSTS))
if env.bool("DANDELION_BEHIND_PROXY", default=False):
    # A TLS-terminating reverse proxy that sets X-Forwarded-Proto and X-Forwarded-For (and strips the client's).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    AXES_IPWARE_PROXY_COUNT = env.int("DANDELION_PROXY_COUNT", default=1)
SECURE_SSL_REDIRECT = DANDELION_HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the load balancer's probe speaks plain HTTP
SECURE_HSTS_SECONDS = env.int("DANDELION_HSTS_SECONDS", default=31_536_000) if DANDELION_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DANDELION_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DANDELION_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = DANDELION_HTTPS
SESSION_COOKIE_HTTPONLY = CSRF_COOKIE_HTTPONLY = True  # pages carry the CSRF token; no script reads cookies
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("DANDELION_SESSION_AGE", default=14 * 24 * 3600)

# Content Security Policy (django-csp): everything is served from this site; no inline script or style except
# through the per-response nonce ({{ csp_nonce }} in templates). The API docs relax it for their own views only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "report-uri": env.list("DANDELION_CSP_REPORT_URI", default=[]) or None,
    },
}

# Languages and time zones (docs/development/translating.md): English is the source language; every app listed in
# dandelion.core.i18n.TRANSLATED_APPS carries a French catalogue in its locale/ directory. Each person picks a
# language and a time zone on their profile page; else the browser's language and TIME_ZONE apply.
LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", "English"), ("fr", "Français")]  # each named in its own language, as a picker shows them
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
DANDELION_RETAIN_WEBHOOK_DELIVERIES_DAYS = env.int("DANDELION_RETAIN_WEBHOOK_DELIVERIES_DAYS", default=30)
DANDELION_RETAIN_READ_NOTIFICATIONS_DAYS = env.int("DANDELION_RETAIN_READ_NOTIFICATIONS_DAYS", default=90)
DANDELION_RETAIN_DIGEST_CLAIMS_DAYS = env.int("DANDELION_RETAIN_DIGEST_CLAIMS_DAYS", default=30)
# at most this many rows per policy and run (a backlog is worked off over several runs), this many a transaction
DANDELION_RETENTION_MAX_ROWS = env.int("DANDELION_RETENTION_MAX_ROWS", default=1_000_000)
DANDELION_RETENTION_CHUNK = env.int("DANDELION_RETENTION_CHUNK", default=1_000)

# Outgoing webhooks (dandelion.webhooks, docs/webhooks.md). Private targets (loopback, private networks, link-local:
# the cloud metadata endpoint) are refused unless allowed: allowed under DEBUG (the demo) and in tests only.
DANDELION_WEBHOOK_ALLOW_PRIVATE = env.bool("DANDELION_WEBHOOK_ALLOW_PRIVATE", default=DEBUG)
DANDELION_WEBHOOK_TIMEOUT = env.float("DANDELION_WEBHOOK_TIMEOUT", default=10.0)  # seconds per attempt
DANDELION_WEBHOOK_MAX_ATTEMPTS = env.int("DANDELION_WEBHOOK_MAX_ATTEMPTS", default=8)  # per delivery
DANDELION_WEBHOOK_RETRY_BASE_SECONDS = env.int("DANDELION_WEBHOOK_RETRY_BASE_SECONDS", default=30)
DANDELION_WEBHOOK_RETRY_MAX_SECONDS = env.int("DANDELION_WEBHOOK_RETRY_MAX_SECONDS", default=6 * 3600)
DANDELION_WEBHOOK_DISABLE_AFTER = env.int("DANDELION_WEBHOOK_DISABLE_AFTER", default=10)  # failed attempts in a row

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
    "PREPROCESSING_HOOKS": ["dandelion.api.schema.only_dandelion_endpoints"],
    "ENUM_NAME_OVERRIDES": {
        "UnitKindEnum": "dandelion.orgs.choices.UnitKind",
        "TeamKindEnum": "dandelion.orgs.choices.TeamKind",
        "WebhookSubscriptionStateEnum": "dandelion.webhooks.choices.SubscriptionState",
        "WebhookDeliveryStatusEnum": "dandelion.webhooks.choices.DeliveryStatus",
        # an account's status as read (as a client sets it: SocialAccountStatusEnum, archiving is its own action)
        "AccountStatusEnum": "dandelion.assets.choices.AccountStatus",
        "PostStateEnum": "dandelion.publishing.choices.PostState",
        "VariantStateEnum": "dandelion.publishing.choices.VariantState",
        "ArticleKindEnum": "dandelion.community.choices.ArticleKind",
        "ArticleStatusEnum": "dandelion.community.choices.ArticleStatus",
        "RegistrationStatusEnum": "dandelion.community.choices.RegistrationStatus",
        "SearchKindEnum": "dandelion.community.choices.SearchKind",
        "GuidelineRuleKindEnum": "dandelion.publishing.choices.RuleKind",
        "StoryStatusEnum": "dandelion.analytics.choices.StoryStatus",
        "RoleEnum": "dandelion.orgs.choices.Role",
        "ResponderRoleEnum": "dandelion.crisis.choices.ResponderRole",
        "IncidentKindEnum": "dandelion.crisis.choices.IncidentKind",
        "GuestRoleEnum": "dandelion.community.models.GuestGrant.Role",
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

# --- Websites (dandelion.sites, docs/websites.md) ----------------------------------------------------------------
# Requests for these hosts are Dandelion itself; any other host is a spoke's website, routed by Wagtail's Site
# table (an unknown host gets a 404). Spokes' hostnames must also be in ALLOWED_HOSTS (".example.org" for a domain).
DANDELION_APP_HOSTS = env.list(
    "DANDELION_APP_HOSTS", default=[h for h in [*LOCAL_HOSTS, *ALLOWED_HOSTS] if h and h[0] not in ".*"])
WAGTAIL_SITE_NAME = env.str("WAGTAIL_SITE_NAME", default="Dandelion websites")
WAGTAILADMIN_BASE_URL = env.str("WAGTAILADMIN_BASE_URL", default=DANDELION_BASE_URL)
WAGTAIL_ENABLE_UPDATE_CHECK = False  # no call home from the admin
WAGTAIL_ENABLE_WHATS_NEW_BANNER = False
WAGTAIL_GRAVATAR_PROVIDER_URL = None  # editors' avatars are never fetched from a third party
# Multilingual websites: a site's pages in several locales (Wagtail's own locales; services.add_site_locale copies
# the site's tree with copy_for_translation). The default language is served at /, the others under /<code>/.
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}


DANDELION_DATASETS = env.str("DANDELION_DATASETS", default=str(BASE_DIR.parent / "shared" / "datasets"))
