"""Issue 16: canned responses managed per unit. A placeholder nobody fills is refused with the list of those that
exist (it would reach the customer as written); a unit's answers reach every unit below it, never a sibling;
changes and deletions are audited and permission-checked."""

import pytest
from django.urls import reverse

from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from dandelion.inbox import services
from dandelion.inbox.exceptions import InboxError
from dandelion.inbox.models import CannedResponse, Conversation
from tests.inbox.conftest import _analyzer, _fake_store, deliver, event, inbox, post_hook  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def test_unknown_placeholders_and_stray_braces_are_refused(inbox):
    admin = inbox.users.hub_admin
    with pytest.raises(InboxError, match=r"Unknown placeholder\(s\) in the body: \{customer\}.*\{contact_name\}"):
        services.create_canned_response(unit=inbox.hub, title="Hi", shortcut="hi", body="Hi {customer}", actor=admin)
    with pytest.raises(InboxError, match=r"translations \(fr\): \{client\}"):
        services.create_canned_response(unit=inbox.hub, title="Hi", shortcut="hi", body="Hi {contact_name}",
                                        translations={"fr": "Salut {client}"}, actor=admin)
    with pytest.raises(InboxError, match="unmatched brace"):
        services.create_canned_response(unit=inbox.hub, title="Hi", shortcut="hi", body="Hi {contact_name",
                                        actor=admin)
    canned = services.create_canned_response(unit=inbox.hub, title="Hi", shortcut="hi", actor=admin,
                                             body="Hi {contact_name}, {agent_name} here.")
    with pytest.raises(InboxError, match="Unknown placeholder"):
        services.update_canned_response(canned, body="Hi {name}", actor=admin)
    canned.refresh_from_db()
    assert canned.body == "Hi {contact_name}, {agent_name} here."
    assert not AuditEvent.objects.filter(action="inbox.canned.update").exists()


def test_the_form_shows_the_placeholder_error_and_keeps_nothing(inbox, client_for):
    response = client_for(inbox.users.fr_admin).post(reverse("inbox:canned-create"), {
        "unit": inbox.france.pk, "title": "Merci", "shortcut": "merci", "language": "fr",
        "body": "Merci {prenom}", "translations_text": ""})
    assert response.status_code == 400 and "Unknown placeholder" in response.content.decode()
    assert not CannedResponse.objects.exists()


def test_a_units_answers_reach_its_subtree_only(inbox, deliver):
    deliver(inbox.fr_account, event("Bonjour ?", id="cm-1", author="u-1", name="Jeanne", language="fr"))
    conv = Conversation.objects.get(messages__external_id="cm-1")
    hub = services.create_canned_response(unit=inbox.hub, title="Hub", shortcut="hub", body="Hello",
                                          actor=inbox.users.hub_admin)
    europe = services.create_canned_response(unit=inbox.europe, title="EU", shortcut="eu", body="Hallo",
                                             actor=inbox.users.europe_admin)
    spain = services.create_canned_response(unit=inbox.spain, title="ES", shortcut="es", body="Hola",
                                            actor=inbox.users.es_admin)
    usable = set(CannedResponse.objects.usable_for(inbox.users.fr_agent, conv))
    assert usable == {hub, europe} and spain not in usable


@pytest.mark.parametrize("who, allowed", [
    ("fr_admin", True), ("europe_admin", True), ("hub_admin", True), ("fr_cm", True),
    ("es_admin", False), ("moderator", False), ("analyst", False), ("pr", True),
])
def test_edit_and_delete_permission_matrix(inbox, who, allowed):
    canned = services.create_canned_response(unit=inbox.france, title="Merci", shortcut="merci",
                                             body="Merci {contact_name}", actor=inbox.users.fr_admin)
    user = getattr(inbox.users, who)
    if not allowed:
        with pytest.raises(PermissionDeniedError):
            services.update_canned_response(canned, title="x", actor=user)
        with pytest.raises(PermissionDeniedError):
            services.delete_canned_response(canned, actor=user)
        assert CannedResponse.objects.filter(pk=canned.pk, title="Merci").exists()
        return
    services.update_canned_response(canned, title="Merci beaucoup", actor=user)
    assert AuditEvent.objects.get(action="inbox.canned.update").changes["title"] == ["Merci", "Merci beaucoup"]
    services.delete_canned_response(canned, actor=user)
    assert AuditEvent.objects.get(action="inbox.canned.delete").actor == user
    assert not CannedResponse.objects.exists()
