"""Replay: real datasets and generated demo traffic streamed as inbound events.

``open_replay(format, path=None, **options)`` gives an iterator of ``ReplayRecord(event, account_handle, delay_s)``;
``play(records, speedup=...)`` paces them in real time. Importing this package registers the ``replay`` connector.
See docs/connectors/replay.md.
"""

from dandelion.connectors.replay.connector import ReplayConnector
from dandelion.connectors.replay.crisislex import read_crisislex
from dandelion.connectors.replay.demo import LANGUAGES as DEMO_LANGUAGES
from dandelion.connectors.replay.demo import generate_demo
from dandelion.connectors.replay.records import ReplayError, ReplayRecord, datasets_dir, play
from dandelion.connectors.replay.sources import FORMATS, default_path, open_replay
from dandelion.connectors.replay.twcs import read_twcs
from dandelion.connectors.replay.xlmt import read_xlmt

__all__ = [
    "DEMO_LANGUAGES",
    "FORMATS",
    "ReplayConnector",
    "ReplayError",
    "ReplayRecord",
    "datasets_dir",
    "default_path",
    "generate_demo",
    "open_replay",
    "play",
    "read_crisislex",
    "read_twcs",
    "read_xlmt",
]
