"""The registry's CSV format: reading and checking an import file row by row, and writing an export.

Columns (the export writes them all, in this order; an import needs the required ones):
``network, handle, external_id, display_name, url, owner_unit (slug), owner (username), status,
languages (ISO 639-1, space or semicolon separated), country (ISO 3166-1 alpha-2), followers``.
No secret is ever read from or written to a CSV file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from dandelion.assets.choices import SETTABLE_STATUSES, AccountStatus
from dandelion.assets.exceptions import InvalidAccountData

COLUMNS = ("network", "handle", "external_id", "display_name", "url", "owner_unit", "owner", "status", "languages",
           "country", "followers")
REQUIRED_COLUMNS = ("network", "handle", "external_id", "owner_unit")
MAX_ERRORS = 1000  # a file of garbage should not produce a page of a million lines


@dataclass(frozen=True)
class RowError:
    line: int  # the file's line number (the header is line 1); 0 for the file as a whole
    reason: str
    column: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "reason": self.reason}

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return f"{where}{f' ({self.column})' if self.column else ''}: {self.reason}"


@dataclass
class ImportResult:
    """What an import did: ``created`` accounts when the whole file was valid, else ``errors`` and nothing written."""

    filename: str = ""
    rows: int = 0
    created: int = 0
    errors: list[RowError] = field(default_factory=list)
    account_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})

    def as_dict(self) -> dict[str, Any]:
        return {"filename": self.filename, "rows": self.rows, "created": self.created, "ok": self.ok,
                "errors": [e.as_dict() for e in self.errors]}


@dataclass
class ParsedRow:
    line: int
    values: dict[str, Any]


class FileRejected(Exception):
    """The file as a whole cannot be read (too big, not UTF-8, not CSV, missing columns)."""

    def __init__(self, reason: str, line: int = 0):
        super().__init__(reason)
        self.error = RowError(line=line, reason=reason)


def read_upload(file, *, max_bytes: int | None = None) -> tuple[str, str]:
    """``(filename, text)`` of an uploaded file, bytes, or text; refuses oversized and non-UTF-8 input."""
    max_bytes = settings.DANDELION_MAX_IMPORT_BYTES if max_bytes is None else max_bytes
    name = getattr(file, "name", "") or ""
    size = getattr(file, "size", None)
    if size is not None and size > max_bytes:
        raise FileRejected(f"The file is too large ({size:,} bytes); the limit is {max_bytes:,} bytes.")
    if isinstance(file, (bytes, str)):
        data = file
    else:
        if hasattr(file, "seek"):
            file.seek(0)
        data = file.read(max_bytes + 1)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > max_bytes:
        raise FileRejected(f"The file is too large (over {max_bytes:,} bytes); the limit is {max_bytes:,} bytes.")
    if not data.strip():
        raise FileRejected("The file is empty.")
    if b"\x00" in data:
        raise FileRejected("This is not a CSV file (it contains binary data).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileRejected(f"The file is not UTF-8 encoded (invalid byte at line {line}); save it as UTF-8 CSV.",
                           line=line) from exc
    return name, text


def iter_rows(text: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The normalised header and ``(line, cells)`` for each non-blank data row."""
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)  # spreadsheets in some locales write ';'
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except (csv.Error, StopIteration) as exc:
        raise FileRejected("This is not a CSV file (no header row could be read).", line=1) from exc
    header = [h.strip().lower().replace(" ", "_") for h in header]
    if len(header) < 2:
        raise FileRejected(
            f"This is not a CSV file: the first line should be a comma-separated header row ({', '.join(COLUMNS)}).",
            line=1,
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise FileRejected(
            f"Missing required column(s): {', '.join(missing)}. Expected a header row with: {', '.join(COLUMNS)}.",
            line=1,
        )
    unknown = [h for h in header if h and h not in COLUMNS]
    if unknown:
        raise FileRejected(f"Unknown column(s): {', '.join(unknown)}. Allowed: {', '.join(COLUMNS)}.", line=1)
    duplicated = sorted({h for h in header if h and header.count(h) > 1})
    if duplicated:
        raise FileRejected(f"Column(s) given twice: {', '.join(duplicated)}.", line=1)

    def rows() -> Iterator[tuple[int, list[str]]]:
        start = reader.line_num + 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise FileRejected(f"This is not a valid CSV file: {exc}.", line=reader.line_num) from exc
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            yield line, cells

    return header, rows()


class RowChecker:
    """Checks the rows of one import against the database (units, owners, existing accounts) with a few queries."""

    def __init__(self, *, actor, network_specs: dict, can_add_to):
        self.actor = actor
        self.network_specs = network_specs
        self.can_add_to = can_add_to  # unit -> bool
        self.url_validator = URLValidator(schemes=["http", "https"])
        self.units: dict[str, Any] = {}
        self.users: dict[str, Any] = {}

    def preload(self, raw_rows: list[tuple[int, dict[str, str]]]) -> None:
        from dandelion.orgs.models import OrgUnit

        slugs = {r.get("owner_unit", "").strip() for _, r in raw_rows} - {""}
        usernames = {r.get("owner", "").strip() for _, r in raw_rows} - {""}
        self.units = {u.slug: u for u in OrgUnit.objects.filter(slug__in=slugs)} if slugs else {}
        User = get_user_model()
        field_name = User.USERNAME_FIELD
        self.users = (
            {getattr(u, field_name): u for u in User.objects.filter(**{f"{field_name}__in": usernames})}
            if usernames else {}
        )

    def check(self, line: int, raw: dict[str, str]) -> tuple[dict[str, Any] | None, list[RowError]]:
        from dandelion.assets.services import normalise_country, normalise_languages
        from dandelion.core.permissions import may_see_unit

        errors: list[RowError] = []

        def err(column: str, reason: str) -> None:
            errors.append(RowError(line=line, column=column, reason=reason))

        get = lambda name: _unescape((raw.get(name) or "").strip())
        for column in REQUIRED_COLUMNS:
            if not get(column):
                err(column, f"{column} is required.")
        values: dict[str, Any] = {}

        network = get("network").lower()
        if network:
            if network not in self.network_specs:
                err("network", f"Unknown network {get('network')!r} (known: {', '.join(self.network_specs)}).")
            else:
                values["network"] = network
                values["connector"] = self.network_specs[network].default_connector
        values["handle"] = get("handle")
        values["external_id"] = get("external_id")
        for column, limit in (("handle", 150), ("external_id", 150), ("display_name", 200), ("url", 500)):
            if len(get(column)) > limit:
                err(column, f"{column} is longer than {limit} characters.")
        values["display_name"] = get("display_name")

        url = get("url")
        if url:
            try:
                self.url_validator(url)
            except ValidationError:
                err("url", f"{url!r} is not a valid http(s) URL.")
        values["url"] = url

        slug = get("owner_unit")
        if slug:
            unit = self.units.get(slug)
            if unit is None or not may_see_unit(self.actor, unit):  # outside the importer's view: as if missing
                err("owner_unit", f"Unknown unit {slug!r}.")
            elif not unit.is_active:
                err("owner_unit", f"Unit {slug!r} is deactivated.")
            elif not self.can_add_to(unit):
                err("owner_unit", f"Unit {slug!r} is outside your scope: you cannot add accounts there.")
            else:
                values["owner_unit"] = unit

        username = get("owner")
        values["owner"] = None
        if username:
            user = self.users.get(username)
            if user is None:
                err("owner", f"Unknown owner {username!r}.")
            elif not user.is_active:
                err("owner", f"Owner {username!r} is deactivated.")
            else:
                values["owner"] = user

        status = get("status").lower() or AccountStatus.ACTIVE.value
        if status not in SETTABLE_STATUSES:
            err("status", f"Bad status {get('status')!r} (allowed: {', '.join(SETTABLE_STATUSES)}).")
        values["status"] = status

        try:
            values["languages"] = normalise_languages(get("languages"))
        except InvalidAccountData as exc:
            err("languages", exc.message)
        try:
            values["country"] = normalise_country(get("country"))
        except InvalidAccountData as exc:
            err("country", exc.message)

        followers = get("followers").replace(",", "").replace("_", "").replace(" ", "")
        if followers:
            if not followers.isdigit():
                err("followers", f"followers must be a whole number ≥ 0, got {get('followers')!r}.")
            elif int(followers) > 2_147_483_647:
                err("followers", "followers is too large.")
            else:
                values["followers"] = int(followers)
        else:
            values["followers"] = 0
        return (None if errors else values), errors


def parse_rows(text: str) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """``[(line, {column: cell})]`` for the data rows; rows with the wrong number of cells are errors."""
    header, rows = iter_rows(text)
    parsed: list[tuple[int, dict[str, str]]] = []
    errors: list[RowError] = []
    for line, cells in rows:
        if len(cells) != len(header):
            # trailing empty cells are harmless (spreadsheets add them)
            if len(cells) > len(header) and not any(c.strip() for c in cells[len(header):]):
                cells = cells[: len(header)]
            else:
                errors.append(RowError(line=line, reason=f"Expected {len(header)} cells, found {len(cells)}."))
                continue
        parsed.append((line, {h: c for h, c in zip(header, cells) if h}))
    return parsed, errors


# --- export ----------------------------------------------------------------------------------------------------


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_row(account) -> list[str]:
    return [
        account.network, account.handle, account.external_id, account.display_name, account.url,
        account.owner_unit.slug, account.owner.get_username() if account.owner_id else "", account.status,
        " ".join(account.languages or []), account.country, str(account.followers),
    ]


def iter_export(accounts: Iterable) -> Iterator[str]:
    """CSV lines (header first) for ``accounts``, for a StreamingHttpResponse. Never includes a secret."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(COLUMNS)  # BOM: spreadsheets then read the file as UTF-8
    for account in accounts:
        yield writer.writerow([_safe_cell(v) for v in export_row(account)])


_FORMULA_START = ("=", "+", "-", "\t", "\r")


def _safe_cell(value: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection): ``=cmd()`` is written ``'=cmd()``. Handles such as
    ``@brand`` stay as they are unless they look like a formula (``@SUM(...)``); import strips the quote again."""
    if not value:
        return value
    risky = value.startswith(_FORMULA_START) or (value.startswith("@") and "(" in value) or value.startswith("'")
    if risky and not value.lstrip("-+").replace(".", "", 1).isdigit():
        return "'" + value
    return value


def _unescape(value: str) -> str:
    """Undo :func:`_safe_cell`."""
    if value.startswith("'") and len(value) > 1 and (value[1] in "=+-@\t\r'"):
        return value[1:]
    return value
