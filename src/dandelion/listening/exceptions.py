from dandelion.core.exceptions import ConflictError, DandelionError


class ListeningError(DandelionError):
    """A listening rule was broken (a query that does not parse, a mention that cannot go to the inbox...)."""


class QueryNameTaken(ConflictError):
    pass
