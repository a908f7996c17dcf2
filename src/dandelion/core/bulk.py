"""Plain bulk inserts for the hot write paths: ``insert_rows(Model, objs)`` behaves as ``bulk_create(objs)``
(primary keys set on the objects, no signals, a unique violation raises ``IntegrityError``).

On PostgreSQL, from ``COPY_FROM`` rows on, the rows go in one ``COPY ... FROM STDIN`` with primary keys drawn from
the table's sequence beforehand; elsewhere, and for fewer rows, Django's ``bulk_create``. Why: ``bulk_create`` on
PostgreSQL builds an ``INSERT ... SELECT * FROM UNNEST(%s, %s, ...)`` whose arrays psycopg quotes in Python,
value by value, and Django's insert compiler prepares each value through each field again: at the inbound
pipeline's batch sizes the two were 26 % of a worker's time, 6 times the database's own work for the same rows
(benchmarks.md §1, "Sixth session"). COPY formats each row in psycopg's C code.

Portable: the ``COPY`` is an optimisation of one engine with the same result; both paths run in the suite (SQLite
takes ``bulk_create``, PostgreSQL ``COPY``; ``tests/core/test_bulk.py`` checks they store the same rows).
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Sequence

from django.db import connections, models
from django.db.models import F, Value
from django.db.models.fields import NOT_PROVIDED, Field
from django.db.models.functions import Concat
from django.utils import timezone

COPY_FROM = 16  # below this many rows one INSERT ... RETURNING is as cheap as two statements

_plans: dict[tuple[type, str], tuple] = {}
_sequences: dict[tuple[str, str], str] = {}


def _column(f: Field) -> str:
    """The column of a concrete field (django-stubs types ``Field.column`` as optional: only non-concrete fields,
    which these functions never see, have none)."""
    assert f.column is not None, f
    return f.column


def _concrete(meta, name: str) -> Field:
    """The concrete field ``name`` of a model's ``_meta``: a reverse relation or a many-to-many has no column."""
    f = meta.get_field(name)
    if not isinstance(f, Field) or not f.concrete or f.many_to_many:
        raise ValueError(f"{meta.label}.{name} is not a concrete column")
    return f


def _plain_types(f: Field) -> tuple[type, ...]:
    """The Python types a value of ``f`` is sent as it is (the driver adapts them as Django would have converted
    them); any other value (a choices member, a float in an integer field, a lazy string, a naive or string
    datetime, a dict for JSON...) goes through ``get_db_prep_save``, as ``bulk_create`` sends it."""
    if isinstance(f, models.ForeignKey):
        return _plain_types(f.target_field)
    if isinstance(f, models.BooleanField):
        return (bool,)
    if isinstance(f, models.AutoField | models.BigAutoField | models.SmallAutoField | models.IntegerField):
        return (int,)
    if isinstance(f, models.FloatField):
        return (float, int)
    if isinstance(f, models.CharField | models.TextField) and not isinstance(f, models.UUIDField):
        return (str,)
    return ()


def _converter(f: Field, *, add: bool):
    """``(plain types or None, convert(obj, connection, now))`` for ``f``: a value of a plain type goes to the
    database as it is; any other (and every value when None) is converted as Django's insert (``add``) or update
    compiler would send it to PostgreSQL (the only engine these rows go to)."""
    attname = f.attname
    if isinstance(f, models.DateTimeField) and (f.auto_now or add and f.auto_now_add):
        def stamp(obj, connection, now):
            setattr(obj, attname, now)  # as pre_save does, with the statement's one time instead of one per row
            return now  # timezone.now(): PostgreSQL's adapt_datetimefield_value sends it as it is
        return None, stamp
    if type(f).pre_save is not Field.pre_save and (
            not isinstance(f, models.DateField) or f.auto_now or add and f.auto_now_add):
        return None, lambda obj, connection, now: f.get_db_prep_save(f.pre_save(obj, add), connection)
    if isinstance(f, models.DateTimeField):
        def convert(obj, connection, now):
            value = getattr(obj, attname)
            if value is None or type(value) is dt.datetime and value.tzinfo is not None:
                return value
            return f.get_db_prep_save(value, connection)  # naive or not a datetime: Django's conversion
        return None, convert
    if isinstance(f, models.CharField | models.TextField) and not isinstance(f, models.UUIDField):
        # a choices member (a str subclass) is sent as it is by Django too (CharField.to_python keeps any str)
        def text(obj, connection, now):
            value = getattr(obj, attname)
            return value if isinstance(value, str) else f.get_db_prep_save(value, connection)
        return frozenset((str, type(None))), text
    if isinstance(f, models.JSONField):
        def json(obj, connection, now):
            value = getattr(obj, attname)
            if type(value) in (dict, list):  # what get_db_prep_save ends in, without its checks for expressions
                return connection.ops.adapt_json_value(value, f.encoder)
            return f.get_db_prep_save(value, connection)
        return None, json
    return frozenset((*_plain_types(f), type(None))), lambda obj, connection, now: f.get_db_prep_save(
        getattr(obj, attname), connection)


def _row_builder(fields: Sequence[Field], *, add: bool):
    """``row(obj, connection, now) -> list``: the database values of ``fields`` for PostgreSQL, read in one C call
    (``attrgetter``), only values that are not of their column's plain type converted in Python. ``now``
    (``timezone.now()``, once per statement) is what ``auto_now`` fields (and ``auto_now_add`` ones on insert)
    take."""
    getter = operator.attrgetter(*(f.attname for f in fields))
    checks = [(i, *_converter(f, add=add)) for i, f in enumerate(fields)]
    single = len(fields) == 1

    def row(obj, connection, now) -> list:
        values = [getter(obj)] if single else list(getter(obj))
        for i, plain, convert in checks:
            if plain is None or type(values[i]) not in plain:
                values[i] = convert(obj, connection, now)
        return values
    return row


def _plan(model: type[models.Model], alias: str) -> tuple:
    """Per model: the COPY statement and, per column, its value's converter."""
    key = (model, alias)
    if key not in _plans:
        meta = model._meta
        fields = [f for f in meta.concrete_fields if not f.generated]
        quote = connections[alias].ops.quote_name
        columns = ", ".join(quote(_column(f)) for f in fields)
        _plans[key] = (f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN", _row_builder(fields, add=True),
                       meta.pk)
    return _plans[key]


def _sequence(alias: str, table: str, column: str) -> str:
    key = (alias, table)
    if key not in _sequences:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
            _sequences[key] = cursor.fetchone()[0]
    return _sequences[key]


def _copyable(model: type[models.Model], objs: Sequence[models.Model], alias: str) -> bool:
    meta = model._meta
    return (connections[alias].vendor == "postgresql" and len(objs) >= COPY_FROM and not meta.parents
            and isinstance(meta.pk, models.AutoField | models.BigAutoField | models.SmallAutoField)
            and not any(getattr(f, "db_default", NOT_PROVIDED) is not NOT_PROVIDED for f in meta.concrete_fields)
            and all(obj.pk is None for obj in objs))


def insert_rows(model: type[models.Model], objs: Sequence[models.Model], *, using: str = "default") -> None:
    """Insert ``objs`` (new instances of ``model``) as ``model.objects.bulk_create(objs)`` would, faster on
    PostgreSQL. On any error the objects are left unsaved (no primary key) and the error raised (a unique violation
    as ``IntegrityError``); run it in a transaction or savepoint to keep nothing of a failed call."""
    objs = list(objs)
    if not objs:
        return
    pk = model._meta.pk
    try:
        if _copyable(model, objs, using):
            _copy(model, objs, using)
        else:
            model._default_manager.using(using).bulk_create(objs)
    except BaseException:  # bulk_create too may have numbered the objects of its earlier batches
        for obj in objs:
            setattr(obj, pk.attname, None)
        raise


def _copy(model: type[models.Model], objs: list[models.Model], using: str) -> None:
    connection = connections[using]
    statement, row_of, pk = _plan(model, using)
    for obj in objs:
        # unsaved parents saved since: their ids (Django's private step of bulk_create, not in the stubs)
        obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)",
                       [_sequence(using, model._meta.db_table, _column(pk)), len(objs)])
        ids = sorted(row[0] for row in cursor.fetchall())  # in object order, as bulk_create numbers them
        for obj, pk_value in zip(objs, ids, strict=True):
            setattr(obj, pk.attname, pk_value)
        now = timezone.now()
        rows = [row_of(obj, connection, now) for obj in objs]
        with connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using


UPDATE_CHUNK = 1000


def update_rows(model: type[models.Model], objs: Sequence[models.Model], fields: Sequence[str], *,
                append: dict[str, dict] | None = None, turn_on: Sequence[str] = (), using: str = "default") -> None:
    """Write ``fields`` of saved ``objs`` to their rows, as ``bulk_update(objs, fields)`` would (no signals; an
    ``auto_now`` field among them takes the time of the write, as ``save`` gives it), and two merges with what the
    row holds now (a concurrent writer's change kept):

    - ``append``: ``{field: {pk: text}}``: the text is appended to the column (rows without one keep theirs);
    - ``turn_on``: boolean fields set when the object's value is true, never cleared.

    On PostgreSQL one ``UPDATE ... FROM (VALUES ...)`` per 1,000 rows; elsewhere one ``UPDATE`` per row (Django's
    ``bulk_update`` writes a ``CASE`` per field and row, which cost more than the row-by-row statements it saves).
    The VALUES list is in primary-key order; the rows are locked in the order of the plan's join, so two callers
    updating the same rows may still deadlock (PostgreSQL then aborts one: run the transaction again)."""
    objs = sorted(objs, key=lambda o: o.pk)
    if not objs:
        return
    append = append or {}
    connection = connections[using]
    meta = model._meta
    plain = [_concrete(meta, name) for name in fields]
    merged = [_concrete(meta, name) for name in (*append, *turn_on)]
    if connection.vendor != "postgresql":
        for obj in objs:
            values = {f.attname: f.pre_save(obj, False) if getattr(f, "auto_now", False) else getattr(obj, f.attname)
                      for f in plain}
            for name, texts in append.items():
                added = texts.get(obj.pk)
                if added:
                    values[name] = Concat(F(name), Value(added))
            values.update({name: True for name in turn_on if getattr(obj, name)})
            model._default_manager.using(using).filter(pk=obj.pk).update(**values)
        return
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), meta.pk
    assert pk is not None
    row_of = _row_builder(plain, add=False) if plain else None  # auto_now fields take the time of the write
    sets = [f"{quote(_column(f))} = v.{quote(_column(f))}::{f.cast_db_type(connection)}" for f in plain]
    # a row with nothing to append keeps its value as it is (``t.c || ''`` would rewrite a long text in full)
    sets += [f"{quote(_column(f))} = CASE WHEN v.{quote(_column(f))} IS NULL THEN t.{quote(_column(f))} "
             f"ELSE t.{quote(_column(f))} || v.{quote(_column(f))}::text END" for f in merged[:len(append)]]
    sets += [f"{quote(_column(f))} = t.{quote(_column(f))} OR COALESCE(v.{quote(_column(f))}::boolean, false)"
             for f in merged[len(append):]]
    columns = ", ".join(quote(_column(f)) for f in [pk, *plain, *merged])
    row_sql = "(" + ", ".join(["%s"] * (1 + len(plain) + len(merged))) + ")"
    now = timezone.now()
    for start in range(0, len(objs), UPDATE_CHUNK):
        chunk = objs[start:start + UPDATE_CHUNK]
        params = []
        for obj in chunk:
            params.append(obj.pk)
            if row_of is not None:
                params.extend(row_of(obj, connection, now))
            params.extend(texts.get(obj.pk) or None for texts in append.values())
            params.extend(bool(getattr(obj, name)) for name in turn_on)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS t SET {', '.join(sets)} FROM (VALUES {', '.join([row_sql] * len(chunk))}) "
                f"AS v({columns}) WHERE t.{quote(_column(pk))} = v.{quote(_column(pk))}::{pk.cast_db_type(connection)}",
                params)
