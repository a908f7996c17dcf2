"""The post-mortem's one section model: the Markdown and the PDF lay out the same sections (titles, facts, the
timeline, actions, the statement and its translations), so neither can drift from the other."""

from __future__ import annotations

import io

import pytest

from dandelion.crisis import postmortem, services
from dandelion.crisis.models import Incident

pytestmark = pytest.mark.django_db


def test_markdown_and_pdf_render_the_same_sections(world):
    from pypdf import PdfReader

    pr = world.users.pr
    incident = world.incident
    services.add_log_entry(incident, actor=pr, text="No promotion until the facts are known.", kind="decision")
    services.save_holding_statement(incident, actor=pr, text="Nous enquêtons sur la panne.")
    services.save_statement_translation(incident, actor=pr, language="en", text="We are looking into the outage.")
    services.close_incident(incident, actor=pr, summary="A rumour, denied.")
    incident = Incident.objects.get(pk=incident.pk)
    log = list(incident.log.order_by("at", "pk"))
    parts = postmortem.sections(incident, log)
    titles = [s.title for s in parts if s.title]
    assert titles[:3] == ["What happened", "Response times", "Volume"]
    assert {"Timeline", "Actions and decisions", "Holding statement"} <= set(titles)
    md = postmortem.render_markdown(incident, log)
    assert md == incident.postmortem  # what close stored is this rendering
    pdf = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(postmortem.render_pdf(incident, log))).pages)
    pdf = " ".join(pdf.split())
    for title in titles:
        assert f"## {title}" in md, title
        assert title in pdf, title
    for text in ("A rumour, denied.", "No promotion until the facts are known.", "We are looking into the outage.",
                 "Conversations routed to PR: 0", "Mentions per ", "12 min"):
        assert text in md and text in pdf, text
    assert "- [" not in md  # no playbook here: no checklist section
