"""Open-data files as streams: the rows of a queryset read as cells, one per
column of the catalogue, and written out as CSV or JSON a chunk at a time."""

import contextlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from itertools import batched, chain
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections, transaction
from django.db.models import OuterRef, QuerySet
from django.http import StreamingHttpResponse

from .columns import CSV_CELLS, JSON_CELLS, Column

encode_json = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps, reused
CHUNK_ROWS = 2000  # rows per database fetch and per write to the response


def list_items(model, source):
    """Split a list column's source ("themes__slug") into the queryset of the
    items, in their model's order, the lookup from them back to `model`, and
    the items' field."""
    relation, name = source.split("__")
    many = model._meta.get_field(relation)
    items = many.related_model._default_manager.all()
    return items, many.related_query_name(), name


def items_by_row(model, source, ids):
    """Map each of the `ids` to its items' list for a list column. One query."""
    items, back, name = list_items(model, source)
    by_row = defaultdict(list)
    for pk, value in items.filter(**{f"{back}__in": ids}).values_list(back, name):
        by_row[pk].append(value)
    return by_row


def rows(
    queryset: QuerySet,
    columns: list[Column],
    base_url: str,
    cells: dict[str, Callable[[Any], Any]],
    chunk_size: int,
) -> Iterator[list[tuple]]:
    """Read the queryset as rows of cells, one per column, in lists of at most
    `chunk_size` rows; neither model instances nor URLs are built per row.

    PostgreSQL: one query, read through a server-side cursor, gathers each row's
    list columns as arrays. Other databases: one query for the rows, plus one
    per list column for each list of rows."""
    model = queryset.model
    sources = {c.source: c.source for c in columns if c.type != "list"}
    in_arrays = connections[queryset.db].vendor == "postgresql"
    if in_arrays:
        for column in columns:
            if column.type == "list":
                items, back, name = list_items(model, column.source)
                related = items.filter(**{back: OuterRef("pk")}).values(name)
                sources[column.source] = f"{column.name}_array"
                queryset = queryset.annotate(
                    **{sources[column.source]: ArraySubquery(related)}
                )
    position = {source: index for index, source in enumerate(sources, 1)}
    convert = [
        column.prepare(base_url) if column.prepare else cells.get(column.type)
        for column in columns
    ]
    fetched = queryset.values_list("pk", *sources.values())
    for chunk in batched(fetched.iterator(chunk_size=chunk_size), chunk_size):
        fields = list(zip(*chunk, strict=True))
        ids = fields[0]
        values = []
        for column in columns:
            if column.source in position:
                values.append(fields[position[column.source]])
            else:
                by_row = items_by_row(model, column.source, ids)
                values.append([by_row.get(pk, []) for pk in ids])
        cells_by_column = [
            map(function, column) if function else column
            for function, column in zip(convert, values, strict=True)
        ]
        yield list(zip(*cells_by_column, strict=True))


def reading(using: str):
    """Hold a transaction while an export reads its rows, on PostgreSQL. Outside
    one, Django declares its server-side cursor WITH HOLD, and PostgreSQL then
    computes and stores the whole result before sending the first row (seconds,
    and a temporary file, for a million rows); inside, rows come as they are read.
    Not on SQLite, where the transaction would take the write lock (IMMEDIATE
    mode) and make submissions wait for the download. Read-only: no savepoint."""
    if connections[using].vendor == "postgresql":
        return transaction.atomic(using, savepoint=False)
    return contextlib.nullcontext()


def csv_cell(value: Any) -> str:
    """Write one cell as csv.writer does by default in a row of several cells
    (minimal quoting, doubled quotes, None empty). csv.writer looks at each
    character in turn: on our long descriptions, that was half of an export."""
    text = "" if value is None else str(value)
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if "," in text or "\n" in text or "\r" in text:
        return f'"{text}"'
    return text


def csv_lines(rows: list[tuple]) -> str:
    """Write rows as CSV lines, each ending in CRLF, a column at a time."""
    columns = [map(csv_cell, column) for column in zip(*rows, strict=True)]
    lines = map(",".join, zip(*columns, strict=True))
    return "".join(line + "\r\n" for line in lines)


def csv_chunks(columns: list[Column], queryset: QuerySet, base: str):
    """The CSV's header, then its rows; the first chunk holds the first rows
    (see primed)."""
    head = csv_lines([[column.name for column in columns]])
    with reading(queryset.db):
        for chunk in rows(queryset, columns, base, CSV_CELLS, CHUNK_ROWS):
            yield head + csv_lines(chunk)
            head = ""
    if head:  # no row
        yield head


def json_chunks(columns: list[Column], queryset: QuerySet, base: str):
    """A JSON array, its first chunk holding the first rows (see primed)."""
    names = [column.name for column in columns]
    separator = "[\n"
    with reading(queryset.db):
        for chunk in rows(queryset, columns, base, JSON_CELLS, CHUNK_ROWS):
            yield separator + ",\n".join(
                encode_json(dict(zip(names, row, strict=True))) for row in chunk
            )
            separator = ",\n"
    yield "[\n]\n" if separator == "[\n" else "\n]\n"


def primed(chunks: Iterator[str]) -> Iterator[str]:
    """Produce the first chunk now, before the response starts: a database
    that does not answer fails the request (503, portal.views.server_error)
    instead of breaking off a download that answered 200."""
    first = next(chunks, None)
    return chain([] if first is None else [first], chunks)


# Each format's chunks and media type. CSV: UTF-8, comma-separated, a header
# row. JSON: an array of objects with the CSV's keys.
FORMATS = {
    "csv": (csv_chunks, "text/csv; charset=utf-8"),
    "json": (json_chunks, "application/json; charset=utf-8"),
}


def response(
    format: str, filename: str, columns: list[Column], queryset: QuerySet, base: str
) -> StreamingHttpResponse:
    """Stream the queryset's rows in `format`, a download named `filename`."""
    chunks, content_type = FORMATS[format]
    streamed = StreamingHttpResponse(
        primed(chunks(columns, queryset, base)), content_type=content_type
    )
    streamed["Content-Disposition"] = f'attachment; filename="{filename}"'
    return streamed
