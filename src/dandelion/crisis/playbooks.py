"""Playbooks as data: validating their steps, writing and reading them as text lines, and choosing the one that fits
an incident.

A step is ``{"title": str, "owner_role": ResponderRole, "due_minutes": int}``: the role on the room that owns it and
how long after the room opens it is due (0: no due time). As text (the playbook form), one step a line::

    owner | 15 | Draft the holding statement
    legal | 60 | Legal review of the statement

Choosing (:func:`choose`): among the active playbooks of the incident's unit or one of its ancestors whose
``min_severity`` the incident reaches, the one of the incident's own kind beats a playbook of ``any`` kind, then the
nearest unit beats the hub, then the highest ``min_severity`` wins (a severity-8 playbook is more specific than a
severity-1 one), then the lowest id (stable).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.utils.translation import gettext as _

from dandelion.crisis.choices import PlaybookKind, ResponderRole
from dandelion.crisis.exceptions import CrisisError

MAX_STEPS = 50
MAX_TITLE = 300
MAX_DUE_MINUTES = 60 * 24 * 30  # a month


def clean_steps(steps: Any) -> list[dict[str, Any]]:
    """The steps, normalised; :class:`CrisisError` naming the step and the mistake otherwise."""
    if not isinstance(steps, list):
        raise CrisisError(_("The steps are a list."), field="steps")
    if len(steps) > MAX_STEPS:
        raise CrisisError(_("At most %(n)d steps.") % {"n": MAX_STEPS}, field="steps")
    cleaned = []
    for number, step in enumerate(steps, start=1):
        if not isinstance(step, dict):
            raise CrisisError(_("Step %(n)d is not an object.") % {"n": number}, field="steps")
        title = str(step.get("title") or "").replace("\x00", "").strip()
        if not title or len(title) > MAX_TITLE:
            raise CrisisError(_("Step %(n)d needs a title of at most %(max)d characters.")
                              % {"n": number, "max": MAX_TITLE}, field="steps")
        role = step.get("owner_role") or ResponderRole.OWNER
        if role not in ResponderRole.values:
            raise CrisisError(_("Step %(n)d: unknown role '%(role)s' (one of: %(roles)s).")
                              % {"n": number, "role": str(role)[:30], "roles": ", ".join(ResponderRole.values)},
                              field="steps")
        due = step.get("due_minutes", 0)
        if isinstance(due, bool) or not isinstance(due, int) or not 0 <= due <= MAX_DUE_MINUTES:
            raise CrisisError(_("Step %(n)d: the due time is a number of minutes from 0 to %(max)d.")
                              % {"n": number, "max": MAX_DUE_MINUTES}, field="steps")
        cleaned.append({"title": title, "owner_role": role, "due_minutes": due})
    return cleaned


def steps_from_text(text: str) -> list[dict[str, Any]]:
    """``role | minutes | title`` lines (blank lines skipped) → steps; :class:`CrisisError` names the bad line."""
    steps = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|", 2)]
        if len(parts) != 3:
            raise CrisisError(_("Line %(n)d: write 'role | minutes | what to do'.") % {"n": number}, field="steps")
        role, minutes, title = parts
        try:
            due = int(minutes or 0)
        except ValueError:
            raise CrisisError(_("Line %(n)d: '%(value)s' is not a number of minutes.")
                              % {"n": number, "value": minutes[:20]}, field="steps") from None
        steps.append({"title": title, "owner_role": role, "due_minutes": due})
    return clean_steps(steps)


def steps_to_text(steps: Sequence[dict[str, Any]]) -> str:
    return "\n".join(f"{s['owner_role']} | {s['due_minutes']} | {s['title']}" for s in steps)


def choose(playbooks: Iterable, *, unit_path: str, kind: str, severity: int):
    """The playbook that fits best (see the module's docstring), or ``None``."""
    fitting = [p for p in playbooks if p.is_active and unit_path.startswith(p.unit.path)
               and p.kind in (kind, PlaybookKind.ANY) and p.min_severity <= severity]
    if not fitting:
        return None
    return min(fitting, key=lambda p: (p.kind == PlaybookKind.ANY, -len(p.unit.path), -p.min_severity, p.pk))
