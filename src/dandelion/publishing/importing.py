"""Bulk scheduling from CSV: every line a post, all or nothing.

Columns (a header line names them, in any order; ``accounts`` and ``text`` are required)::

    accounts,text,scheduled_local,title,is_sponsored
    "@brand_fr;x:@brand_fr_x",Bonjour à tous,2030-07-01 09:00,Summer,no

``accounts``: one or more accounts of the unit's subtree, separated by ``;``, each its id, its handle, or
``network:handle`` when a handle is on two networks. ``scheduled_local``: a wall-clock time in the accounts' zone
(``YYYY-MM-DD HH:MM``), empty for a draft without a time. With ``submit`` every post is submitted at once (checks,
workflow): one without a workflow to pass is scheduled straight away.

Every line goes through the same services as a post drafted by hand (``create_post`` then ``submit_post``), each
in a savepoint; a line that fails is reported with its number, field and message, and when any line fails the
whole import is rolled back: nothing is half-imported.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from dandelion.core import audit
from dandelion.core.exceptions import DandelionError, PermissionDeniedError
from dandelion.core.permissions import require_perm
from dandelion.publishing import services
from dandelion.publishing.models import Post

MAX_BYTES = 2 * 1024 * 1024  # the default of settings.DANDELION_MAX_IMPORT_BYTES
MAX_LINES = 1000
COLUMNS = ("accounts", "text", "scheduled_local", "title", "is_sponsored")
REQUIRED = ("accounts", "text")
_TRUE = {"1", "yes", "true", "y", "oui", "sí", "si", "x"}
_FALSE = {"", "0", "no", "false", "n", "non"}
_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True)
class LineError:
    line: int
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "field": self.field, "message": self.message}


class ImportInvalid(DandelionError):
    """Some lines of the CSV are wrong: ``errors`` name each (line, field, message); nothing was imported."""

    status_code = 422
    code = "invalid_lines"

    def __init__(self, message: str, *, errors: list[LineError]):
        super().__init__(message, field="file")
        self.errors = errors


@dataclass
class ImportResult:
    posts: list[Post] = field(default_factory=list)

    @property
    def by_state(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for post in self.posts:
            out[post.state] = out.get(post.state, 0) + 1
        return out


def max_bytes() -> int:
    """The largest CSV accepted (``DANDELION_MAX_IMPORT_BYTES``)."""
    from django.conf import settings

    return int(getattr(settings, "DANDELION_MAX_IMPORT_BYTES", MAX_BYTES) or MAX_BYTES)


def _decode(data: bytes | str) -> str:
    limit = max_bytes()
    if isinstance(data, str):
        text = data
    else:
        if len(data) > limit:
            raise ImportInvalid(_("The file is too large."), errors=[LineError(0, "file", f"The file is larger "
                                                                                    f"than {limit // 1024} KB.")])
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportInvalid(_("The file is not UTF-8."), errors=[LineError(0, "file", f"The file is not UTF-8 "
                                                                                    f"text (byte {exc.start}).")]) from None
    if len(text) > limit:
        raise ImportInvalid(_("The file is too large."), errors=[LineError(0, "file", "The file is too large.")])
    return text.removeprefix("\ufeff")


def _parse_time(value: str) -> dt.datetime | None:
    value = value.strip()
    if not value:
        return None
    for fmt in _FORMATS:
        try:
            return dt.datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise DandelionError(_("“%(value)s” is not a time like 2030-07-01 09:00.") % {"value": value[:40]}, field="scheduled_local")


def _parse_bool(value: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise DandelionError(_("“%(value)s” is not yes or no.") % {"value": value[:20]}, field="is_sponsored")


class _Accounts:
    """The accounts a line may name: those of the unit's subtree the actor may post to, by id, handle or
    ``network:handle``."""

    def __init__(self, actor, unit):
        self.rows = list(services.postable_accounts(actor, unit))
        self.by_id = {str(a.pk): a for a in self.rows}

    def resolve(self, value: str) -> list:
        out = []
        names = [v.strip() for v in value.split(";") if v.strip()]
        if not names:
            raise DandelionError(_("Name at least one account."), field="accounts")
        for name in names[:50]:
            if name in self.by_id:
                out.append(self.by_id[name])
                continue
            network, _sep, handle = name.rpartition(":") if ":" in name else ("", "", name)
            hits = [a for a in self.rows if a.handle.lower() == handle.lower()
                    and (not network or a.network == network.lower())]
            if not hits:
                raise DandelionError(_("No account “%(name)s” you may post to here.") % {"name": name[:60]}, field="accounts")
            if len(hits) > 1:
                raise DandelionError(_("“%(name)s” is on several networks: write network:handle (e.g. %(network)s:%(handle)s).") % {"name": name[:60], "network": hits[0].network, "handle": hits[0].handle}, field="accounts")
            out.append(hits[0])
        return out


def import_posts_csv(*, actor, unit, data: bytes | str, submit: bool = True) -> ImportResult:
    """Create (and with ``submit``, submit) one post per line of the CSV, all or nothing (``ImportInvalid`` with
    every bad line otherwise). One audit row for the import, besides each post's own."""
    require_perm(actor, services.PERM_ADD, unit)
    reader = csv.DictReader(io.StringIO(_decode(data), newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    if missing or unknown:
        what = (f"missing column(s): {', '.join(missing)}" if missing else
                f"unknown column(s): {', '.join(u[:30] for u in unknown[:5])}")
        raise ImportInvalid(_("The header line is wrong."),
                            errors=[LineError(1, "header", f"The header line has {what}; the columns are "
                                                           f"{', '.join(COLUMNS)}.")])
    reader.fieldnames = header
    errors: list[LineError] = []
    result = ImportResult()
    accounts = _Accounts(actor, unit)
    try:
        with transaction.atomic():
            for index, row in enumerate(reader):
                line = reader.line_num
                if index >= MAX_LINES:
                    errors.append(LineError(line, "file", f"More than {MAX_LINES} posts in one file: split it."))
                    break
                if None in row:  # more cells than columns
                    errors.append(LineError(line, "file", "This line has more cells than the header."))
                    continue
                values = {k: (v or "") for k, v in row.items()}
                if not any(v.strip() for v in values.values()):
                    continue  # a blank line
                try:
                    with transaction.atomic():
                        post = services.create_post(
                            actor=actor, unit=unit, text=values["text"].strip(),
                            accounts=accounts.resolve(values["accounts"]), title=values.get("title", "").strip(),
                            is_sponsored=_parse_bool(values.get("is_sponsored", "")),
                            scheduled_local=_parse_time(values.get("scheduled_local", "")))
                        if submit:
                            post = services.submit_post(post, actor=actor)
                except PermissionDeniedError:
                    raise
                except DandelionError as err:
                    errors.append(LineError(line, err.field or "", err.message))
                    continue
                result.posts.append(post)
            if errors:
                raise ImportInvalid(_("%(length)s line(s) are wrong: nothing was imported.") % {"length": len(errors)}, errors=errors)
            if not result.posts:
                raise ImportInvalid(_("The file holds no post."), errors=[LineError(2, "file", "No post below the "
                                                                                          "header line.")])
            audit.record(actor=actor, action="publishing.post.import", obj=unit, unit=unit,
                         summary=f"Imported {len(result.posts)} post(s) from CSV into {unit.name}",
                         changes={"posts": [None, [p.pk for p in result.posts]]})
    except ImportInvalid:
        result.posts = []
        raise
    return result
