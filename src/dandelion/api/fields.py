"""Serializer fields shared by the apps' APIs."""

from __future__ import annotations

from rest_framework import serializers


class ReadWriteChoiceField(serializers.ChoiceField):
    """A choice whose input is narrower than its output: a client may set ``choices``, and reads any of
    ``read_choices`` (e.g. an account's status: ``archived`` is read, never set, archiving is its own action).
    The OpenAPI schema documents each direction's enum (``dandelion.api.schema``)."""

    def __init__(self, *, choices, read_choices, **kwargs):
        super().__init__(choices=choices, **kwargs)
        self.read_choices = list(read_choices)
