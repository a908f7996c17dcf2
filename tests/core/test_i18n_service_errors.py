"""A French user reads the errors of every app's services in French (issue 16): one refused call per app, run in
the language the person chose (the middleware activates it for each request; ``translation.override`` does the
same here). Each message is the app's own catalogue entry, with its values in place."""

import datetime as dt

import pytest
from django.utils import translation

from dandelion.core.exceptions import DandelionError

pytestmark = pytest.mark.django_db


def _refused(call) -> str:
    with translation.override("fr"), pytest.raises(DandelionError) as refused:
        call()
    return refused.value.message


def test_publishing(org):
    from dandelion.publishing import services

    assert _refused(lambda: services.resolve_local_time(dt.datetime(2030, 7, 1, 9), "Nowhere/Zone")) == (
        "Fuseau horaire inconnu : 'Nowhere/Zone'.")


def test_crisis(org):
    from dandelion.crisis import services

    assert _refused(lambda: services.open_incident(actor=org.users.hub_admin, unit=org.france, title="Incendie",
                                                   severity=42)) == "La gravité est un nombre entier de 1 à 10."


def test_listening(org):
    from dandelion.listening import services

    message = _refused(lambda: services.create_query(actor=org.users.hub_admin, unit=org.france, name="Marque",
                                                     text="(nike"))
    assert "Cette parenthèse ouvrante n’est jamais fermée" in message


def test_community(org):
    from dandelion.community import services

    assert _refused(lambda: services.ask_question(actor=org.users.fr_agent, title="  ")) == "Ce champ est obligatoire."


def test_analytics(org):
    from dandelion.analytics import filters

    assert _refused(lambda: filters.resolve(org.users.analyst, {"unit": "abc"})) == "unit doit être un nombre."


def test_sites():
    from dandelion.sites import services

    message = _refused(lambda: services.normalise_hostname("not a host!"))
    assert message.startswith("'not a host!'") and "nom d'hôte valide" in message


def test_sso(org):
    from dandelion.sso import services

    assert _refused(lambda: services.create_provider(actor=org.users.hub_admin, name="Corp", slug="corp",
                                                     bound_unit=org.hub, colour="blue")) == (
        "Champ(s) inconnu(s) : colour.")


def test_notifications(org):
    from dandelion.notifications import services
    from dandelion.notifications.models import Notification

    note = Notification.objects.create(recipient=org.users.fr_agent, event_type="conversation.assigned",
                                       event_id="e-1")
    assert _refused(lambda: services.mark_read(note, actor=org.users.es_agent)) == (
        "Notification introuvable : elle ne vous est pas adressée.")


def test_webhooks():
    from dandelion.webhooks import services

    assert _refused(lambda: services.clean_event_types([])) == "Choisissez au moins un type d’événement."


def test_orgs(org):
    from dandelion.orgs import services

    assert _refused(lambda: services.move_unit(actor=org.users.hub_admin, unit=org.europe, new_parent=org.france)) == (
        "Europe ne peut pas être déplacée sous elle-même ni sous l’une de ses sous-unités.")


def test_core(org):
    from dandelion.core.services import update_profile

    user = org.users.fr_agent
    assert _refused(lambda: update_profile(actor=user, user=user, language="xx", time_zone="")) == (
        "Langue inconnue : xx.")
