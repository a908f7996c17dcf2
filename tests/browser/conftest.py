"""Real-browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Chromium is required under CI (``.ci/run`` installs it); elsewhere these tests skip with a clear reason.
Screenshots land in ``test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("DANDELION_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make around it are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium is required under CI ({CHROMIUM} missing)")
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield b
    b.close()
    pw.stop()


@pytest.fixture
def page(browser, live_server, settings):
    """A page on the live server. Every browser test also checks the Content Security Policy: a page that
    breaks it (an inline script or style, a foreign resource) fails the test that visited it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1360, "height": 900})
    context.set_default_timeout(10_000)
    p = context.new_page()
    p.csp_errors = csp_errors = []
    p.on("console", lambda msg: csp_errors.append(f"{p.url}: {msg.text}")
         if msg.type == "error" and "Content Security Policy" in msg.text else None)
    yield p
    context.close()
    assert csp_errors == [], "Content Security Policy violations:\n" + "\n".join(csp_errors)


def login(page, username: str, password: str = "pw-test-123") -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def settled(page) -> None:
    """Wait until HTMX has finished its requests, swaps and settles, so the swapped-in elements have their
    ``hx-*`` listeners (acting on a swapped element before that fires no request)."""
    page.wait_for_load_state("networkidle")
    wait_for(page, "!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')")


def wait_for(page, expression: str, timeout: float = 10.0) -> None:
    """Wait until the JavaScript ``expression`` is true. (Playwright's ``wait_for_function`` re-evaluates its string
    with ``eval`` inside the page, which the Content Security Policy forbids; ``page.evaluate`` is not subject to
    it.)"""
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for: {expression}")
        page.wait_for_timeout(50)
