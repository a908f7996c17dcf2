"""Finding template text that is not marked for translation, and reading gettext catalogues (for the i18n tests)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

#: Words that stay the same in every language (names, acronyms): text made only of them needs no translation.
INVARIANT_WORDS = frozenset({"Dandelion", "API", "CSV", "JSON", "URL", "ID", "SLA", "HMAC", "SHA256", "SAML", "OIDC",
                             "OpenID", "HTTP", "HTTPS", "OK", "UTC", "ISO", "IANA", "Redoc", "SSO", "IdP", "SP", "ms",
                             "s", "h", "min", "HTMX", "px"})

_BLOCKS = [
    re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", re.DOTALL),
    re.compile(r"{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}", re.DOTALL),
    re.compile(r"<script\b.*?</script>", re.DOTALL | re.IGNORECASE),
    re.compile(r"<style\b.*?</style>", re.DOTALL | re.IGNORECASE),
    re.compile(r"<!--.*?-->", re.DOTALL),
    re.compile(r"{#.*?#}", re.DOTALL),
]
_TEMPLATE_CODE = re.compile(r"{%.*?%}|{{.*?}}", re.DOTALL)
_ATTRIBUTE = re.compile(r"""\b(title|placeholder|aria-label|alt|hx-confirm|data-confirm)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_TAG = re.compile(r"<[^>]*>", re.DOTALL)
_ENTITY = re.compile(r"&[#a-zA-Z0-9]+;")
_WORD = re.compile(r"[^\W\d_]{2,}")


def _words(text: str) -> list[str]:
    text = _ENTITY.sub(" ", _TEMPLATE_CODE.sub(" ", text))
    return [w for w in _WORD.findall(text) if w not in INVARIANT_WORDS]


def untranslated_text(source: str) -> list[str]:
    """The pieces of a template's literal text (between tags, and in the attributes people read) that are words not
    passed through ``{% translate %}`` / ``{% blocktranslate %}``."""
    for block in _BLOCKS:
        source = block.sub(" ", source)
    found = []
    for match in _ATTRIBUTE.finditer(source):
        value = match.group(2) if match.group(2) is not None else match.group(3)
        if _words(value):
            found.append(f'{match.group(1)}="{value.strip()}"')
    for chunk in _TAG.split(_TEMPLATE_CODE.sub(lambda m: " " if m.group(0).startswith("{{") else m.group(0), source)):
        chunk = _TEMPLATE_CODE.sub(" ", chunk)
        if _words(chunk):
            found.append(" ".join(chunk.split())[:80])
    return found


@dataclass
class Entry:
    msgid: str
    msgid_plural: str = ""
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    fuzzy: bool = False


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file (the header, msgid "", left out)."""
    entries: list[Entry] = []
    current: Entry | None = None
    key: tuple[str, int] | None = None
    flags = ""

    def close():
        nonlocal current
        if current is not None and current.msgid != "":
            entries.append(current)
        current = None

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("#,"):
            close()
            flags = line
            continue
        if not line or line.startswith("#"):
            continue
        name, _sep, rest = line.partition(" ")
        if line.startswith('"'):
            value = ast.literal_eval(line)
            assert current is not None and key is not None
            if key[0] == "msgstr":
                current.msgstr[key[1]] += value
            else:
                setattr(current, key[0], getattr(current, key[0]) + value)
            continue
        value = ast.literal_eval(rest)
        # an entry starts at its msgctxt, or at its msgid when it has none
        if name == "msgctxt" or (name == "msgid" and (key is None or key[0] != "msgctxt")):
            close()
            current = Entry(msgid="", fuzzy="fuzzy" in flags)
            flags = ""
        assert current is not None
        if name == "msgctxt":
            current.msgctxt, key = value, ("msgctxt", 0)
        elif name == "msgid":
            current.msgid, key = value, ("msgid", 0)
        elif name == "msgid_plural":
            current.msgid_plural, key = value, ("msgid_plural", 0)
        elif name.startswith("msgstr"):
            index = int(name[7:-1]) if name.startswith("msgstr[") else 0
            current.msgstr[index], key = value, ("msgstr", index)
    close()
    return entries
