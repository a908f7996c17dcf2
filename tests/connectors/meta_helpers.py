"""Shared helpers of the Graph API connector tests: recorded responses (JSON files shaped like Meta's documentation,
under fixtures/<network>/) and signed webhook bodies. Verified against recorded responses, not the live network."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"
APP_SECRET = "meta-app-secret"
GRAPH = "https://graph.facebook.com/v21.0"


def fixture(network: str, name: str) -> Any:
    return json.loads((FIXTURES / network / name).read_text())


def meta_signed(payload: Any, secret: str = APP_SECRET) -> tuple[bytes, dict[str, str]]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
