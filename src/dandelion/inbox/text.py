"""Canned-response rendering: pick the translation for the conversation's language, fill the placeholders."""

from __future__ import annotations

import string

PLACEHOLDERS = ("contact_name", "agent_name", "account_name", "team_name")


class _Blank(dict):
    def __missing__(self, key):  # unknown placeholders are left as written
        return "{" + key + "}"


def pick_translation(canned, language: str | None) -> str:
    """The text in ``language`` (exact code, then its base: ``pt-BR`` → ``pt``), else the default body."""
    translations = {k.lower(): v for k, v in (canned.translations or {}).items() if v}
    lang = (language or "").lower()
    if lang:
        if lang == (canned.language or "").lower():
            return canned.body
        if lang in translations:
            return translations[lang]
        base = lang.split("-")[0]
        if base in translations:
            return translations[base]
        if base == (canned.language or "").lower().split("-")[0]:
            return canned.body
    return canned.body


def placeholder_values(conversation, agent=None) -> dict[str, str]:
    contact = conversation.contact
    agent_name = ""
    if agent is not None:
        agent_name = (agent.get_full_name() or "").strip() or getattr(agent, "first_name", "") or agent.get_username()
    account = conversation.account
    return {
        "contact_name": contact.name or "",
        "agent_name": agent_name,
        "account_name": account.display_name or account.handle,
        "team_name": conversation.team.name if conversation.team_id else "",
    }


def render_canned(canned, conversation, agent=None, *, language: str | None = None) -> str:
    """The canned response for ``conversation``, in its language, placeholders resolved."""
    text = pick_translation(canned, language or conversation.language)
    values = _Blank(placeholder_values(conversation, agent))
    try:
        return string.Formatter().vformat(text, (), values).strip()
    except (ValueError, IndexError):  # a stray brace: fall back to plain replacement
        for key, value in values.items():
            text = text.replace("{" + key + "}", value)
        return text.strip()
