"""The e-mail connector (key ``email``, network ``email``): IMAP in, SMTP out. See docs/connectors/email.md."""

from dandelion.connectors.email.connector import EmailConnector
from dandelion.connectors.email.parse import message_ids, parse_message
from dandelion.connectors.registry import NetworkSpec, register_network

NETWORK = register_network(NetworkSpec("email", "E-mail", "email", "mailto:{handle}", "#6D28D9"))

__all__ = ["NETWORK", "EmailConnector", "message_ids", "parse_message"]
