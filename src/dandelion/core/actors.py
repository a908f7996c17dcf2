"""The ``SYSTEM`` actor: who acts when no person does (background jobs, periodic jobs, management commands).

Services take a keyword-only ``actor``; jobs and commands pass :data:`SYSTEM`. It holds every permission (the
operator who runs a command or the worker that runs a job already has the machine), sees every row, is never saved
as a user (``pk`` is None, so "created by" fields stay empty) and is written "system" in the audit log.
"""

from __future__ import annotations


class SystemActor:
    """The one system actor (use :data:`SYSTEM`; compare with :func:`is_system`)."""

    pk = None
    id = None
    username = "system"
    is_system = True
    is_active = True
    is_superuser = True  # every permission, every row
    is_staff = False
    is_authenticated = False  # not a logged-in person: never stored in a user foreign key
    is_anonymous = False

    def get_username(self) -> str:
        return self.username

    def __str__(self) -> str:
        return self.username

    def __repr__(self) -> str:
        return "SYSTEM"

    def __reduce__(self):
        return "SYSTEM"  # pickles (job arguments, caches) as the same singleton


SYSTEM = SystemActor()


def is_system(actor) -> bool:
    return actor is SYSTEM
