"""Credentials at rest: MultiFernet over ``DANDELION_ENCRYPTION_KEYS`` (newest first), so keys rotate.

When no key is configured (a developer machine, the demo), one is generated once and kept under ``var/``.
Plaintext never leaves this module except to the connector that needs it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class CredentialsError(Exception):
    """Stored credentials cannot be decrypted with any configured key."""


def _keys() -> list[str]:
    keys = [k for k in settings.DANDELION_ENCRYPTION_KEYS if k]
    if keys:
        return keys
    path = settings.VAR_DIR / "encryption_keys"
    try:
        stat = path.stat()
    except FileNotFoundError:
        path.write_text(Fernet.generate_key().decode() + "\n")
        path.chmod(0o600)
        stat = path.stat()
    # read again only when the file changed (every webhook decrypts its account's secret)
    return list(_file_keys(str(path), stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=8)
def _file_keys(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    with open(path, encoding="utf-8") as fh:
        return tuple(line.strip() for line in fh.read().splitlines() if line.strip())


@lru_cache(maxsize=1)
def _cipher_for(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except ValueError as exc:  # a malformed key: fail loudly at first use, never silently store plaintext
        raise CredentialsError(f"Invalid DANDELION_ENCRYPTION_KEYS entry: {exc}") from exc


def cipher() -> MultiFernet:
    return _cipher_for(tuple(_keys()))


def encrypt_text(value: str) -> str:
    return cipher().encrypt(value.encode()).decode() if value else ""


def decrypt_text(token: str) -> str:
    if not token:
        return ""
    try:
        return cipher().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise CredentialsError("Stored secret cannot be decrypted with the configured keys.") from exc


def encrypt_json(data: dict[str, Any]) -> str:
    return encrypt_text(json.dumps(data, sort_keys=True)) if data else ""


def decrypt_json(token: str) -> dict[str, Any]:
    return json.loads(decrypt_text(token)) if token else {}


def rotate_token(token: str) -> str:
    """Re-encrypt with the newest key (MultiFernet.rotate)."""
    return cipher().rotate(token.encode()).decode() if token else ""


def mask(value: str) -> str:
    """Show a secret's last four characters only."""
    if not value:
        return ""
    return "•" * 8 + value[-4:] if len(value) > 8 else "•" * 8
