"""A corte's reads as columns: the catalog's casillas and an election's verified actas.

On PostgreSQL a query's rows come through ``COPY (…) TO STDOUT`` as CSV and polars parses
them: no Python object per row or per cell. Elsewhere (SQLite: the demo, small tests) the
same query is read row by row into the same frame. Either way the frame holds what
:func:`openprep.core.tabla.decidir` takes.
"""

from __future__ import annotations

import hashlib
import io
import json
from concurrent.futures import Future
from datetime import datetime, tzinfo
from typing import Any

import polars as pl
from django.db import connection
from django.db.models import F, QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from openprep.catalog.models import ActaEsperada, Casilla, Eleccion
from openprep.core import tabla
from openprep.core.model import Election
from openprep.intake.models import Acta
from openprep.publish.corte import CASILLA_COLUMNS, LocalText, UtcText, verified_actas

_TIMESTAMPS = ("acopio", "captura", "verificacion")


def frame(rows: QuerySet[Any], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """A ``values_list`` query's rows as a frame with ``schema`` (names in query order)."""
    if connection.vendor != "postgresql":
        return pl.DataFrame(list(rows.iterator(chunk_size=5000)), schema=schema, orient="row")
    sql, params = rows.query.sql_with_params()
    buffer = io.BytesIO()
    connection.ensure_connection()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own: COPY binds the parameters on the client
        with raw.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
            for block in copy:
                buffer.write(block)
    return pl.read_csv(
        buffer.getvalue(), has_header=False, schema=schema, infer_schema=False, raise_if_empty=False
    )


def casillas(rows: QuerySet[Casilla] | None = None) -> pl.DataFrame:
    """The casillas (every one of the catalog by default): ``casilla_id``, the identity
    fields of :data:`tabla.CASILLA` and ``lista_nominal``."""
    query = (Casilla.objects.all() if rows is None else rows).values_list(*CASILLA_COLUMNS)
    schema = {"casilla_id": pl.Int64(), **tabla.CASILLA_SCHEMA, "lista_nominal": pl.Int64()}
    return frame(query, schema)


def esperadas(eleccion: Eleccion, *, casillas: pl.DataFrame | Future[pl.DataFrame]) -> pl.DataFrame:
    """The election's expected actas in catalog order: ``esperada_id``, ``tipo_acta``,
    ``representantes``, ``no_aplica`` (JSON text) and their casilla (:func:`casillas`;
    a future of them is waited for once the expected actas are read, so that the corte
    builder reads both at once)."""
    query = ActaEsperada.objects.filter(eleccion=eleccion).values_list(
        "id",
        "orden",
        "casilla_id",
        "tipo_acta",
        "representantes_pp_ci",
        Cast("no_aplica", TextField()),
    )
    schema: dict[str, pl.DataType] = {
        "esperada_id": pl.Int64(),
        "orden": pl.Int64(),
        "casilla_id": pl.Int64(),
        "tipo_acta": pl.String(),
        "representantes": pl.Int64(),
        "no_aplica": pl.String(),
    }
    ordered = frame(query, schema).sort("orden", "esperada_id")
    if isinstance(casillas, Future):
        casillas = casillas.result()
    return ordered.join(casillas, on="casilla_id", how="left", maintain_order="left")


def local(column: pl.Series, *, tz: tzinfo) -> pl.Series:
    """UTC text (``YYYY-MM-DD HH:MM:SS``) as published local time; each distinct second
    once."""
    table = LocalText(tz)
    distinct = [text for text in column.unique().to_list() if text is not None]
    mapping = {text: table[text] for text in distinct}
    return column.replace_strict(
        list(mapping), list(mapping.values()), default="", return_dtype=pl.String
    )


def _utc_text(actas: pl.DataFrame, name: str) -> pl.Series:
    """A timestamp column as UTC text to the second. PostgreSQL's own text is cut to the
    second (as ``to_char`` would, cheaper: ``to_char`` was a fifth of the read); SQLite's
    already is (:class:`UtcText`)."""
    column = actas.get_column(name)
    if connection.vendor != "postgresql":
        return column
    # ``2027-06-07 01:02:03[.123456]+00``: the read sets DateStyle ISO and TimeZone UTC.
    if not column.drop_nulls().str.ends_with("+00").all():
        raise ValueError(f"{name}: PostgreSQL did not write UTC timestamps")
    return column.str.slice(0, 19)


_CLAVES_SQL = (
    "(SELECT jsonb_agg(key ORDER BY n)::text"
    " FROM jsonb_each_text(intake_acta.valores) WITH ORDINALITY AS e(key, value, n))"
)
"""An acta's keys, as the MD5 in its ``valores_lectura`` covers them: the same aggregation
as migration ``intake/0005``'s function (or no MD5 matches, and every acta is read again)."""
_NULO = "\\N"
"""How ``valores_lectura`` writes a JSON null, which ``->>`` reads as NULL."""


def _claves(lecturas: pl.DataFrame, *, actas: QuerySet[Acta]) -> dict[str, tuple[str, ...]]:
    """The keys, in order, behind each MD5 (``firma``) of ``lecturas``: read from one acta
    of each and checked against that MD5 (one that does not match is left out)."""
    ids = lecturas.group_by("firma").agg(pl.col("acta_id").first()).get_column("acta_id")
    muestras = actas.filter(id__in=ids.to_list())
    claves = {}
    for texto in muestras.values_list(RawSQL(_CLAVES_SQL, ()), flat=True):
        texto = texto or "[]"
        claves[hashlib.md5(texto.encode()).hexdigest()] = tuple(json.loads(texto))
    return claves


def _valores(
    lecturas: pl.DataFrame, *, names: tuple[str, ...], actas: QuerySet[Acta]
) -> pl.DataFrame:
    """``acta_id`` and ``v:<name>`` for each acta of ``lecturas`` (``acta_id`` and its
    ``valores_lectura``), each value exactly as ``valores ->> name`` reads it; in no
    particular order.

    The text is taken apart when it splits into one value per key (:func:`_claves`) and
    holds no JSON null; the few others (none that capture writes) are read through
    ``->>`` (``actas``: the query ``lecturas`` came from).
    """
    text = pl.col("lectura")
    lecturas = lecturas.select("acta_id", firma=text.str.slice(0, 32), resto=text.str.slice(33))
    claves = _claves(lecturas, actas=actas)
    wanted = set(names)
    partes: list[pl.DataFrame] = []
    otras: list[pl.Series] = []
    for (firma,), grupo in lecturas.partition_by("firma", as_dict=True).items():
        keys = claves.get(firma)
        if keys is None:
            otras.append(grupo.get_column("acta_id"))
            continue
        resto = grupo.get_column("resto")
        if keys:
            # One split more than the keys: that field is null when the text splits exactly.
            campos = resto.str.split_exact("|", len(keys)).struct.unnest()
            splits = campos.select(
                pl.all_horizontal(
                    pl.col(f"field_{len(keys)}").is_null(),
                    *(pl.col(f"field_{i}").is_not_null() for i in range(len(keys))),
                )
            ).to_series()
            exacta = splits & ~resto.str.contains(_NULO, literal=True)
        else:  # valores {}: nothing captured, every field null
            campos, exacta = pl.DataFrame(), resto == ""
        partes.append(
            pl.DataFrame(
                [
                    grupo.get_column("acta_id").filter(exacta),
                    *(
                        campos.get_column(f"field_{i}").filter(exacta).alias(f"v:{key}")
                        for i, key in enumerate(keys)
                        if key in wanted
                    ),
                ]
            )
        )
        otras.append(grupo.get_column("acta_id").filter(~exacta))
    columns = {f"v:{name}": pl.String() for name in names}
    resto_ids = pl.concat(otras).to_list() if otras else []
    if resto_ids:
        query = actas.filter(id__in=resto_ids).values_list(
            "id", *(KeyTextTransform(name, "valores") for name in names)
        )
        partes.append(frame(query, {"acta_id": pl.Int64(), **columns}))
    vacia = pl.DataFrame(schema={"acta_id": pl.Int64(), **columns})
    return pl.concat([vacia, *partes], how="diagonal").select(vacia.columns)


def catalogo(
    eleccion: Eleccion,
    *,
    hasta: datetime,
    election: Election,
    tz: tzinfo,
    esperadas: pl.DataFrame,
) -> pl.DataFrame:
    """The election's actas of the catalog verified by ``hasta``, in catalog order, as the
    *cruda* frame of :mod:`openprep.core.tabla` (``esperadas``: see :func:`esperadas`).

    The database only reads the actas (by their election's index): joining them to their
    expected acta and casilla, and sorting, are done here on columns. On PostgreSQL each
    acta's captured values come as one text (``valores_lectura``, :func:`_valores`): a
    jsonb lookup per field and acta was half of the database's work in a corte.
    """
    names = tabla.campos(election)
    postgresql = connection.vendor == "postgresql"
    verificadas = verified_actas(eleccion, hasta=hasta).filter(esperada__isnull=False)
    valores: list[Any] = (
        [RawSQL('"intake_acta"."valores_lectura"', ())]  # taken apart by _valores
        if postgresql
        else [KeyTextTransform(name, "valores") for name in names]
    )
    query = verificadas.values_list(
        "esperada_id",
        "id",
        *valores,
        "motivo_sin_acta",
        "mecanismo_traslado",
        "imagen_id",
        *(
            F(f"fecha_hora_{name}") if postgresql else UtcText(f"fecha_hora_{name}")
            for name in _TIMESTAMPS
        ),
        "origen",
        "digitalizacion",
        "tipo_documento",
    )
    schema: dict[str, pl.DataType] = {
        "esperada_id": pl.Int64(),
        "acta_id": pl.Int64(),
        **(
            {"lectura": pl.String()} if postgresql else {f"v:{name}": pl.String() for name in names}
        ),
        "motivo": pl.String(),
        **{name: pl.String() for name in tabla.TEXTOS},
    }
    if postgresql:
        with connection.cursor() as cursor:
            # The elections of a corte are read in parallel already; the timestamps'
            # text must be UTC in ISO style (see _utc_text).
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            cursor.execute("SET LOCAL TimeZone = 'UTC'")
            cursor.execute("SET LOCAL DateStyle = 'ISO'")
    actas = frame(query, schema)
    if postgresql:
        leidos = _valores(actas.select("acta_id", "lectura"), names=names, actas=verificadas)
        actas = actas.join(leidos, on="acta_id", maintain_order="left").drop("lectura")
    actas = actas.with_columns(
        local(_utc_text(actas, name), tz=tz).alias(name) for name in _TIMESTAMPS
    )
    cruda = esperadas.join(actas, on="esperada_id", how="inner", maintain_order="left")
    # In the expected actas' order already (by orden, then id); only a tie in orden needs
    # the acta's id to decide, and only then is the frame sorted again.
    if not (cruda.get_column("orden").diff().drop_nulls() > 0).all():
        cruda = cruda.sort("orden", "acta_id", maintain_order=True)
    return cruda.drop("orden", "esperada_id", "acta_id")
