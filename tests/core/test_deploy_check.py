"""Deployment security: `dandelion check --deploy` is clean with a production environment (DEBUG off, a real
SECRET_KEY, ALLOWED_HOSTS set), and the responses carry the security headers (CSP, HSTS over HTTPS, referrer
policy, frame denial, nosniff) and safe cookies."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

REPO = Path(__file__).resolve().parents[2]


def _production_env(tmp_path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "DANDELION_", "EMAIL_")) and k not in {"DEBUG", "ALLOWED_HOSTS",
                                                                                  "SECRET_KEY", "DATABASE_URL"}}
    env.update({
        "DJANGO_SETTINGS_MODULE": "dandelion.config.settings",
        "PYTHONPATH": str(REPO / "src"),
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "dandelion.example.org",
        "DANDELION_VAR_DIR": str(tmp_path),
        **extra,
    })
    return env


def _check(env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "manage.py"), "check", "--deploy", "--fail-level", "DEBUG"],
                          cwd=REPO, env=env, check=False, capture_output=True, text=True, timeout=300)


def test_check_deploy_is_clean_in_production(tmp_path):
    result = _check(_production_env(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output, output


def test_check_deploy_is_clean_behind_a_proxy(tmp_path):
    result = _check(_production_env(tmp_path, DANDELION_BEHIND_PROXY="true",
                                    EMAIL_URL="smtp+tls://mailer:secret@smtp.example.org:587"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_flags_a_weak_configuration(tmp_path):
    """The test above means something: the same check fails when HTTPS is switched off."""
    result = _check(_production_env(tmp_path, DANDELION_HTTPS="false"))
    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr


def test_production_settings_values(tmp_path):
    code = ("from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
            "s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_HTTPONLY, s.X_FRAME_OPTIONS, "
            "s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS)")
    env = _production_env(tmp_path, EMAIL_URL="smtp+tls://mailer:secret@smtp.example.org:587")
    out = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=REPO, env=env,
                         check=False, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True", "True", "31536000", "True", "DENY",
                                  "django.core.mail.backends.smtp.EmailBackend", "smtp.example.org", "587", "True"]


def test_local_demo_defaults_stay_on_plain_http(tmp_path):
    """Without ALLOWED_HOSTS the demo serves http://127.0.0.1: no redirect to an HTTPS that is not there."""
    env = _production_env(tmp_path)
    env.pop("ALLOWED_HOSTS")
    code = "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.EMAIL_BACKEND)"
    out = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=REPO, env=env,
                         check=False, capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "False", "django.core.mail.backends.console.EmailBackend"], out.stderr


@pytest.mark.django_db
def test_pages_carry_the_security_headers(org):
    c = Client()
    c.force_login(org.users.hub_admin)
    resp = c.get(reverse("orgs:tree"))
    assert resp.status_code == 200
    csp = resp["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in directives["script-src"]
    assert "'unsafe-inline'" not in directives["style-src"]
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert resp["X-Frame-Options"] == "DENY"
    assert resp["X-Content-Type-Options"] == "nosniff"
    assert resp["Referrer-Policy"] == "same-origin"
    assert resp["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_hsts_and_secure_cookies_over_https(client, settings):
    """With HTTPS on (as in production), HSTS is sent on secure requests and the login cookies are Secure and
    HttpOnly. (Middleware reads these settings when it is built: a fresh client builds it anew.)"""
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    from tests.factories import UserFactory

    UserFactory(username="carla")
    c = Client()
    page = c.get(reverse("login"), secure=True)
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert page.cookies["csrftoken"]["secure"] and page.cookies["csrftoken"]["httponly"]
    resp = c.post(reverse("login"), {"username": "carla", "password": "pw-test-123"}, secure=True)
    assert resp.status_code == 302
    session = resp.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


def test_no_inline_script_or_style_in_templates():
    """The CSP allows no inline script, style or event handler: keep templates free of them.

    E-mail bodies (templates under an ``email/`` folder) are not served under the CSP and mail clients ignore linked
    style sheets, so they may carry a ``<style>`` block; they still may not hold a script or an event handler.
    """
    import re

    offenders = []
    pattern = re.compile(r"<script>|<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=\"|\son[a-z]+=\"|javascript:")
    email_pattern = re.compile(r"<script|\son[a-z]+=\"|javascript:")
    for path in (REPO / "src").rglob("*.html"):
        check = email_pattern if "email" in path.parent.parts else pattern
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if check.search(line):
                offenders.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert offenders == []
