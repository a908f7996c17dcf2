import datetime as dt

import pytest
from django.utils import timezone

from dandelion.community import services
from dandelion.core.actors import SYSTEM


@pytest.fixture
def kb(org):
    """A group-wide article, a French one and a Spanish one, a question with an answer, a coming gathering."""
    u = org.users
    group = services.create_article(
        actor=SYSTEM, unit=org.hub, title="Crisis escalation checklist",
        body="When a post goes viral for the wrong reasons, escalate to the PR manager within 15 minutes.",
        kind="checklist", tags=["crisis"], owner=u.hub_admin)
    fr = services.create_article(
        actor=SYSTEM, unit=org.france, title="Répondre aux clients mécontents",
        body="Toujours remercier, reconnaître le problème et proposer une solution en message privé.",
        language="fr", kind="best_practice", owner=u.fr_cm)
    es = services.create_article(
        actor=SYSTEM, unit=org.spain, title="Spanish giveaway rules",
        body="Giveaways in Spain need published terms and a notary for prizes above the threshold.")
    q = services.ask_question(actor=u.fr_cm, title="How do you handle trolls on live videos?",
                              body="We get spam during every live.")
    a = services.answer_question(q, actor=u.es_agent, body="Pin a moderation comment and hide repeated spam.")
    start = timezone.now() + dt.timedelta(days=10)
    g = services.create_gathering(actor=SYSTEM, unit=org.hub, title="Community day", starts_at=start,
                                  ends_at=start + dt.timedelta(hours=4), capacity=2, place="Paris",
                                  speakers=[{"name": "Ada Guest", "is_guest": True}],
                                  agenda=[{"starts_at": start, "title": "Welcome", "speaker": "Ada Guest"}])
    return type("KB", (), {"group": group, "fr": fr, "es": es, "question": q, "answer": a, "gathering": g})
