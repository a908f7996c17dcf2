"""The generic webhook connector (key ``generic``): see docs/connectors/generic-webhook.md.

Public helpers: ``sign`` (for senders and tests), ``MAX_BODY_BYTES``, ``MAX_BATCH``, ``SIGNATURE_HEADER``,
``parse_payload`` / ``parse_delivery``.
"""

from dandelion.connectors.generic.connector import GenericConnector
from dandelion.connectors.generic.webhook import (
    MAX_BATCH,
    MAX_BODY_BYTES,
    MAX_TEXT_CHARS,
    SIGNATURE_HEADER,
    parse_delivery,
    parse_payload,
    sign,
    verify_signature,
)

__all__ = [
    "MAX_BATCH",
    "MAX_BODY_BYTES",
    "MAX_TEXT_CHARS",
    "SIGNATURE_HEADER",
    "GenericConnector",
    "parse_delivery",
    "parse_payload",
    "sign",
    "verify_signature",
]
