"""A corte's actas of the catalog as columns: decided, summed and written as the rows are.

A national corte holds half a million actas. One Python object per acta and per step
(record, decision, summary, CSV row) cost some 30 µs an acta; this module does the same
work on polars columns. The row path stays the reference: :func:`rules.contabilizar`,
:class:`tally.Summary` and :func:`prepdb_write.write_prepdb`; the tests hold both to the
same decisions, summaries and bytes.

The input, a *cruda* frame, has one row per acta of the catalog, in corte order:

* the casilla: :data:`CASILLA` (the fields of :class:`~openprep.core.model.Casilla`) and
  ``lista_nominal``;
* ``tipo_acta``, ``representantes`` (REPRESENTANTES_PP_CI) and ``no_aplica`` (the JSON list
  of the columns off the acta's ballot, as stored);
* ``v:<campo>`` for every captured field (:func:`campos`): the stored text, null or empty
  when never captured;
* ``motivo``: the sin-acta reason, or empty;
* the published texts :data:`TEXTOS` (timestamps already local).

:func:`decidir` reads each distinct stored text once, as the row path reads it
(:func:`field_value`), and gives per field ``c:<campo>`` (the cell as published) and
``n:<campo>`` (its number; null for a mark) in place of ``v:<campo>`` and ``no_aplica``,
then ``clave`` (CLAVE_CASILLA), ``especial`` and the decision: ``observacion`` (index in
:data:`OBSERVACIONES`, null for none), ``contabilizada`` and ``total``
(TOTAL_VOTOS_CALCULADO).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

import polars as pl

from openprep.core.model import (
    CONTROL_FIELDS,
    ActaRecord,
    Casilla,
    Election,
    Marca,
    MotivoSinActa,
    TipoCasilla,
    field_value,
)
from openprep.core.rules import (
    _SIN_ACTA_BY_MOTIVO,
    Decision,
    Observacion,
    Representantes,
    RuleSettings,
)
from openprep.core.tally import Summary

CASILLA: Final = Casilla._fields
CASILLA_SCHEMA: Final[dict[str, pl.DataType]] = {
    name: pl.String() if name in ("entidad", "distrito", "tipo", "municipio") else pl.Int64()
    for name in CASILLA
}
TEXTOS: Final = (
    *("mecanismo", "sha", "acopio", "captura", "verificacion"),
    *("origen", "digitalizacion", "tipo_documento"),
)
OBSERVACIONES: Final = tuple(Observacion)
"""``observacion`` codes: the index of each observation here."""
_CODE = {o: i for i, o in enumerate(OBSERVACIONES)}
_BLANK = (Marca.ILEGIBLE.value, Marca.SIN_DATO.value)
_INT64 = 1 << 63
_PLAIN = re.compile(r"0|[1-9][0-9]{0,17}")


def campos(election: Election) -> tuple[str, ...]:
    """Every captured field, in the layout's order: control, ballot columns, NO_REGISTRADOS,
    NULOS, TOTAL_VOTOS_ASENTADO."""
    return (*CONTROL_FIELDS, *election.columns, "NO_REGISTRADOS", "NULOS", "TOTAL_VOTOS_ASENTADO")


def _votos(election: Election) -> tuple[str, ...]:
    """The fields TOTAL_VOTOS_CALCULADO adds: ballot columns, NO_REGISTRADOS, NULOS."""
    return (*election.columns, "NO_REGISTRADOS", "NULOS")


def _replace(column: pl.Expr, table: Mapping[Any, Any], dtype: pl.DataType) -> pl.Expr:
    return column.replace_strict(
        list(table), list(table.values()), default=None, return_dtype=dtype
    )


def decidir(cruda: pl.DataFrame, *, election: Election, settings: RuleSettings) -> pl.DataFrame:
    """The actas with their cells, numbers, CLAVE_CASILLA and decision (see the module).

    A stored text the row path cannot read raises what it raises (``ValueError``).
    """
    names = campos(election)
    stored = pl.concat(
        [cruda.get_column(f"v:{n}").fill_null("").unique() for n in names]
        or [pl.Series([""], dtype=pl.String)]
    ).unique()
    values = {text: field_value(text) for text in stored.to_list()}
    values[""] = 0
    too_large = [t for t, v in values.items() if type(v) is int and not -_INT64 <= v < _INT64]
    if too_large:  # capture never stores one; a column of 64-bit integers cannot hold it
        raise ValueError(f"a captured value is out of range: {too_large[0]!r}")
    cells = {t: str(v) if type(v) is int else v.value for t, v in values.items()}  # type: ignore[union-attr]
    numbers = {t: v if type(v) is int else None for t, v in values.items()}
    blanks = [t for t, v in values.items() if v in _BLANK]

    fuera_de_boleta: dict[str, set[str]] = {
        text: set(json.loads(text)) for text in cruda.get_column("no_aplica").unique().to_list()
    }

    def no_aplica(name: str) -> pl.Expr:
        texts = [t for t, fuera in fuera_de_boleta.items() if name in fuera]
        return pl.col("no_aplica").is_in(texts) if texts else pl.lit(False)

    # Texts that read the same in polars as in Python (digits, no leading zero), empty
    # ones and marks, as stored by capture: then no lookup per cell is needed.
    plain = all(t == "" or t in _BLANK or _PLAIN.fullmatch(t) for t in values)
    boleta = set(election.columns)
    columns: list[pl.Expr] = []
    for name in names:
        stored_text = pl.col(f"v:{name}").fill_null("")
        if plain:
            marked = (stored_text == _BLANK[0]) | (stored_text == _BLANK[1])
            cell = pl.when(stored_text == "").then(pl.lit("0")).otherwise(stored_text)
            number = (
                pl.when(marked)
                .then(pl.lit(None, dtype=pl.Int64))
                .otherwise(stored_text.cast(pl.Int64, strict=False).fill_null(0))
            )
        else:
            cell = _replace(stored_text, cells, pl.String())
            number = _replace(stored_text, numbers, pl.Int64())
        if name in boleta:
            off = no_aplica(name)
            cell = pl.when(off).then(pl.lit(Marca.NO_APLICA.value)).otherwise(cell)
            number = pl.when(off).then(None).otherwise(number)
            blank = ~off & stored_text.is_in(blanks)
        else:
            blank = stored_text.is_in(blanks)
        columns += [cell.alias(f"c:{name}"), number.alias(f"n:{name}"), blank.alias(f"b:{name}")]
    motivos = {"": None} | {
        m: _CODE[_SIN_ACTA_BY_MOTIVO[MotivoSinActa(m)]]
        for m in cruda.get_column("motivo").fill_null("").unique().to_list()
        if m
    }
    frame = cruda.with_columns(
        *columns,
        *(pl.col(t).fill_null("") for t in TEXTOS),
        sin_acta=_replace(pl.col("motivo").fill_null(""), motivos, pl.Int8()),
        clave=pl.concat_str(
            pl.col("id_entidad").cast(pl.String).str.zfill(2),
            pl.col("seccion").cast(pl.String).str.zfill(4),
            pl.col("tipo"),
            pl.col("id_casilla").cast(pl.String).str.zfill(2),
            pl.col("ext_contigua").cast(pl.String).str.zfill(2),
        ),
        especial=pl.col("tipo") == TipoCasilla.ESPECIAL.value,
    )
    votos = _votos(election)
    zero = pl.lit(0, dtype=pl.Int64)
    total = pl.sum_horizontal(zero, *(pl.col(f"n:{n}") for n in votos))
    blank = pl.any_horizontal(pl.lit(False), *(pl.col(f"b:{n}") for n in votos))
    some_number = pl.any_horizontal(pl.lit(False), *(pl.col(f"n:{n}").is_not_null() for n in votos))
    base = (
        pl.when(pl.col("especial"))
        .then(pl.lit(settings.boletas_especial, dtype=pl.Int64))
        .otherwise(pl.col("lista_nominal").cast(pl.Int64))
    )
    if settings.representantes is Representantes.COLUMNA:
        allowance = pl.col("representantes").cast(pl.Int64)
    else:
        on_ballot = [
            (~no_aplica(election.columns[i])).cast(pl.Int64)
            for i in election.representative_positions
        ]
        allowance = 2 * pl.sum_horizontal(zero, *on_ballot)
    frame = frame.with_columns(total=total, blank=blank, some_number=some_number, base=base)
    todos = pl.col("blank") & ~pl.col("some_number")
    excede = (pl.col("total") > pl.col("base")) & (pl.col("total") > pl.col("base") + allowance)
    sin_acta = pl.col("sin_acta")

    def code(observacion: Observacion) -> pl.Expr:
        return pl.lit(_CODE[observacion], dtype=pl.Int8)

    frame = frame.with_columns(
        observacion=pl.when(sin_acta.is_not_null())
        .then(sin_acta)
        .when(todos)
        .then(code(Observacion.TODOS_ILEGIBLES_O_SIN_DATO))
        .when(excede)
        .then(code(Observacion.EXCEDE_LISTA_NOMINAL))
        .when(pl.col("blank"))
        .then(code(Observacion.ALGUN_DATO_ILEGIBLE_O_SIN_DATO))
        .otherwise(pl.lit(None, dtype=pl.Int8)),
        contabilizada=sin_acta.is_null() & ~todos & ~excede,
    )
    inputs = ("no_aplica", *(f"v:{n}" for n in names), *(f"b:{n}" for n in names))
    return frame.drop("blank", "some_number", "base", "sin_acta", *inputs)


_INCONSISTENCIAS = [i for i, o in enumerate(OBSERVACIONES) if o.es_inconsistencia]


def resumen(tabla: pl.DataFrame, *, summary: Summary) -> None:
    """Add the decided actas to ``summary``, as :meth:`Summary.add` would one by one."""
    counted = pl.col("contabilizada")
    sums = tabla.select(
        contabilizadas=counted.sum().cast(pl.Int64),
        inconsistencias=pl.col("observacion").is_in(_INCONSISTENCIAS).sum().cast(pl.Int64),
        lista_nominal=pl.col("lista_nominal").filter(counted).sum().cast(pl.Int64),
        c_cs=pl.col("total").filter(counted).sum().cast(pl.Int64),
        s_cs=pl.col("total").filter(counted & ~pl.col("especial")).sum().cast(pl.Int64),
    ).row(0, named=True)
    summary.actas_registradas += tabla.height
    summary.actas_contabilizadas += sums["contabilizadas"] or 0
    summary.actas_inconsistencias += sums["inconsistencias"] or 0
    summary.lista_nominal_contabilizadas += sums["lista_nominal"] or 0
    summary.total_votos_c_cs += sums["c_cs"] or 0
    summary.total_votos_s_cs += sums["s_cs"] or 0


def textos_observacion(labels: Mapping[int | None, str]) -> pl.Expr:
    """The ``observacion`` column as texts: ``labels`` by code (None: no observation)."""
    codes = {code: text for code, text in labels.items() if code is not None}
    return _replace(pl.col("observacion"), codes, pl.String()).fill_null(labels.get(None, ""))


_BUILT: Final = frozenset({"CLAVE_CASILLA", "CLAVE_ACTA"})
"""Cells :func:`celdas` builds of numbers and of cells checked themselves."""


def celdas(tabla: pl.DataFrame, *, election: Election, settings: RuleSettings) -> pl.DataFrame:
    """Each acta's cells in the reference layout, as :func:`prepdb_write.format_row` gives
    them, one column each: written with ``|`` between them, never quoted, they are the
    database's rows (:func:`prepdb_write.write_prepdb`'s ``catalogo``).

    A text holding the delimiter or a newline raises ``ValueError`` naming the acta, as
    :func:`prepdb_write.write_prepdb` does.
    """
    suffixes = {
        t: t.zfill(2) if t.isdigit() else t
        for t in tabla.get_column("tipo_acta").unique().to_list()
    }
    labels: dict[int | None, str] = {_CODE[o]: settings.label(o) for o in OBSERVACIONES}
    clave_acta = pl.concat_str(
        pl.col("clave"), _replace(pl.col("tipo_acta"), suffixes, pl.String())
    )
    cells = tabla.select(
        pl.concat_str(pl.lit('="'), pl.col("clave"), pl.lit('"')).alias("CLAVE_CASILLA"),
        clave_acta.alias("CLAVE_ACTA"),
        *("id_entidad", "entidad", "id_distrito", "distrito", "seccion", "id_casilla"),
        *("tipo", "ext_contigua", "ubicacion", "tipo_acta"),
        *(pl.col(f"c:{n}") for n in campos(election)),
        *("total", "lista_nominal", "representantes"),
        textos_observacion(labels).alias("OBSERVACIONES"),
        pl.col("contabilizada").cast(pl.UInt8),
        *TEXTOS,
    )
    # Only texts from outside can hold the delimiter or a newline: the captured figures
    # (``c:``) are numbers or marks, and the keys are built of numbers and of texts that
    # are checked themselves.
    texts = [
        name
        for name, dtype in cells.schema.items()
        if dtype == pl.String and name not in _BUILT and not name.startswith("c:")
    ]
    nulls = sum(cells.null_count().row(0))
    flagged = cells.filter(
        pl.any_horizontal(
            pl.lit(False),
            *(
                pl.col(t).str.contains("|", literal=True)
                | pl.col(t).str.contains("\n", literal=True)
                for t in texts
            ),
            *((pl.col(t).is_null() for t in cells.columns) if nulls else ()),
        )
    )
    if flagged.height:
        clave = flagged.item(0, "CLAVE_ACTA")
        raise ValueError(f"{clave}: a value holds the delimiter or a newline")
    return cells


def tabla_de_filas(
    rows: Iterable[tuple[ActaRecord, Decision]], *, election: Election
) -> pl.DataFrame:
    """Decided actas of the catalog (rows) as the frame :func:`decidir` gives, without the
    ``v:`` and ``no_aplica`` inputs: what the site reads of an acta."""
    names = campos(election)
    data: dict[str, list[object]] = {name: [] for name in (*CASILLA, "lista_nominal")}
    for extra in ("tipo_acta", "representantes", "motivo", *TEXTOS, "clave", "especial"):
        data[extra] = []
    for name in names:
        data[f"c:{name}"] = []
        data[f"n:{name}"] = []
    data |= {"observacion": [], "contabilizada": [], "total": []}
    for acta, decision in rows:
        for field, value in zip(CASILLA, acta.casilla, strict=True):
            data[field].append(value)
        data["lista_nominal"].append(acta.lista_nominal)
        data["tipo_acta"].append(acta.tipo_acta)
        data["representantes"].append(acta.representantes_pp_ci)
        data["motivo"].append(acta.sin_acta.value if acta.sin_acta else "")
        for field, text in zip(
            TEXTOS,
            (
                acta.mecanismo_traslado, acta.sha, acta.fecha_hora_acopio,
                acta.fecha_hora_captura, acta.fecha_hora_verificacion, acta.origen,
                acta.digitalizacion, acta.tipo_documento,
            ),
            strict=True,
        ):  # fmt: skip
            data[field].append(text)
        data["clave"].append(acta.casilla.clave)
        data["especial"].append(acta.casilla.especial)
        values = (*acta.control, *acta.votos, acta.no_registrados, acta.nulos)
        for name, value in zip(names, (*values, acta.total_votos_asentado), strict=True):
            data[f"c:{name}"].append(str(value) if type(value) is int else value.value)  # type: ignore[union-attr]
            data[f"n:{name}"].append(value if type(value) is int else None)
        data["observacion"].append(
            None if decision.observacion is None else _CODE[decision.observacion]
        )
        data["contabilizada"].append(decision.contabilizada)
        data["total"].append(decision.total_votos_calculado)
    schema = dict(CASILLA_SCHEMA)
    schema |= {"lista_nominal": pl.Int64(), "tipo_acta": pl.String(), "representantes": pl.Int64()}
    schema |= {name: pl.String() for name in ("motivo", *TEXTOS, "clave")}
    schema["especial"] = pl.Boolean()
    for name in names:
        schema[f"c:{name}"] = pl.String()
        schema[f"n:{name}"] = pl.Int64()
    schema |= {"observacion": pl.Int8(), "contabilizada": pl.Boolean(), "total": pl.Int64()}
    return pl.DataFrame(data, schema=schema)


def codigo(observacion: Observacion | None) -> int | None:
    """An observation's code in ``observacion`` columns."""
    return None if observacion is None else _CODE[observacion]


def observacion_de(code: int | None) -> Observacion | None:
    return None if code is None else OBSERVACIONES[code]


__all__ = [
    "CASILLA",
    "CASILLA_SCHEMA",
    "OBSERVACIONES",
    "TEXTOS",
    "campos",
    "celdas",
    "codigo",
    "decidir",
    "field_value",
    "observacion_de",
    "resumen",
    "tabla_de_filas",
    "textos_observacion",
]
