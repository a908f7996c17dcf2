"""Listening's part of the demo organisation: filled in below."""


def seed(demo) -> None:  # pragma: no cover - replaced below
    return None
