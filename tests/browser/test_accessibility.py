"""Accessibility of the main pages (issue 16): axe-core, Deque's engine pinned in ``tests/browser/axe`` (``npm ci``,
run by ``.ci/run``), is injected into the login page, the inbox queue, a conversation, the accounts list, the org
tree and the metrics page; none may have a serious or critical violation. Skipped locally when axe-core is not
installed; under CI a missing install fails."""

import json
import os
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM, login, shot
from tests.inbox.conftest import _analyzer, _fake_store, deliver, event, inbox, post_hook  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def axe_page(browser, live_server, settings):
    """A page that may receive axe-core: the script is added inline, which the Content Security Policy forbids, so
    this page's context bypasses the policy (the CSP itself is checked by every other browser test)."""
    if not AXE.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"axe-core is required under CI ({AXE} missing: cd tests/browser/axe && npm ci)")
        pytest.skip("axe-core not installed (cd tests/browser/axe && npm ci)")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1360, "height": 900}, bypass_csp=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def serious_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is (WCAG 2.1 A and AA rules)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a',
                                                                          'wcag21aa']}, resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
    }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


def check(page, name: str, found: dict) -> None:
    page.wait_for_load_state("networkidle")
    violations = serious_violations(page)
    shot(page, f"axe-{name}")
    if violations:
        found[name] = violations


def test_main_pages_have_no_serious_accessibility_violation(axe_page, inbox, deliver):
    assert Path(CHROMIUM).exists()
    deliver(
        inbox.fr_account,
        event(
            "Bonjour, ma commande n'est pas arrivée",
            id="a11y-1",
            author="u-a11y",
            name="Chloé Cliente",
            language="fr",
        ),
    )
    from dandelion.inbox.models import Conversation

    conv = Conversation.objects.get(messages__external_id="a11y-1")
    page = axe_page
    found: dict = {}
    page.goto("/accounts/login/")
    check(page, "login", found)
    login(page, "fradmin")
    page.goto("/inbox/")
    check(page, "queue", found)
    page.goto(f"/inbox/conversations/{conv.pk}/")
    check(page, "conversation", found)
    page.goto("/assets/accounts/")
    check(page, "accounts", found)
    page.goto("/orgs/")
    check(page, "org-tree", found)
    page.context.clear_cookies()
    login(page, "hubadmin")
    page.goto("/inbox/metrics/")
    check(page, "metrics", found)
    assert found == {}, json.dumps(found, indent=1)
