"""The public site's figures: an election's actas grouped by territory and tallied.

The actas of the catalog come decided as columns (:mod:`openprep.core.tabla`); each
sección's figures are sums over its actas as :func:`openprep.core.tally.tally` adds them
(the tests hold the two to the same figures). A territory's figures are its secciones'
tallies merged, and the election's its territories'. Actas fuera de catálogo are listed
apart and enter no territory: their captured identity may name none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import polars as pl

from openprep.core.model import ActaRecord, Casilla, Election
from openprep.core.rules import Decision, Observacion, Participacion
from openprep.core.tabla import CASILLA_SCHEMA, codigo, observacion_de
from openprep.core.tally import (
    SUMMARY_FIELDS,
    Nivel,
    Summary,
    TerritoryTally,
    truncated_percentage,
)
from openprep.publish.site_html import ancho_tabla, filas_acta, grupos_seccion

Row = tuple[ActaRecord, Decision]


def merged(tallies: Iterable[TerritoryTally], *, width: int) -> TerritoryTally:
    """The tally of a union of territories: their votes and summaries added."""
    total = TerritoryTally(votos=[0] * width)
    for part in tallies:
        total.votos = [a + b for a, b in zip(total.votos, part.votos, strict=True)]
        total.no_registrados += part.no_registrados
        total.nulos += part.nulos
        total.summary.merge(part.summary)
    return total


Grupo = tuple[int, bytes, int]
"""The actas of one sección on the site: its number, their ``<tbody>`` (UTF-8) and its
length in characters."""


class Seccion(NamedTuple):
    """A sección's figures as published: its summary fields (:func:`figuras`), and its
    votes per contender, then NO_REGISTRADOS and NULOS."""

    resumen: dict[str, str]
    votos: list[str]


@dataclass
class Territorio:
    """A distrito or municipio of one election: its actas' rows, secciones and figures."""

    nivel: Nivel
    id: int
    nombre: str
    actas: int = 0
    ordinarias: list[Grupo] = field(default_factory=list)
    """The actas of casillas ordinarias by sección (catalog order within one)."""
    especiales: list[Grupo] = field(default_factory=list)
    """The actas of casillas especiales, likewise."""
    secciones: dict[int, Seccion] = field(default_factory=dict)
    """Each sección's figures, by number, in order."""
    tally: TerritoryTally | None = None
    observaciones: dict[Observacion | None, int] = field(default_factory=dict)
    """How many actas carry each observation (``None``: none)."""

    @property
    def slug(self) -> str:
        """The page's base name: ``distrito-3``; never more than letters, digits and ``-``."""
        return f"{self.nivel.value}-{self.id}"

    @property
    def titulo(self) -> str:
        word = "Distrito" if self.nivel is Nivel.DISTRITO else "Municipio"
        plain = f"{word} {self.id}"
        redundant = not self.nombre or self.nombre.upper() == plain.upper()
        return plain if redundant else f"{plain}: {self.nombre}"


@dataclass
class Agrupacion:
    """An election's actas by territory, with the tallies the pages show."""

    nivel: Nivel
    territorios: list[Territorio]
    fuera_catalogo: list[Row]
    especiales: TerritoryTally

    @property
    def actas(self) -> int:
        return sum(t.actas for t in self.territorios) + len(self.fuera_catalogo)


def esperadas_tabla(esperadas: Sequence[Casilla] | pl.DataFrame) -> pl.DataFrame:
    """The casillas of the expected actas as a frame of :data:`tabla.CASILLA` columns."""
    if isinstance(esperadas, pl.DataFrame):
        return esperadas
    return pl.DataFrame(list(esperadas), schema=CASILLA_SCHEMA, orient="row")


_INCONSISTENCIAS = [codigo(o) for o in Observacion if o.es_inconsistencia]


def _sumas(election: Election) -> list[pl.Expr]:
    """What :meth:`TerritoryTally.add` adds up, over a group of decided actas."""
    counted = pl.col("contabilizada")
    return [
        pl.len().alias("registradas"),
        counted.sum().cast(pl.Int64).alias("contabilizadas"),
        pl.col("observacion").is_in(_INCONSISTENCIAS).sum().cast(pl.Int64).alias("inconsistencias"),
        pl.col("lista_nominal").filter(counted).sum().cast(pl.Int64).alias("lista_nominal"),
        pl.col("total").filter(counted).sum().cast(pl.Int64).alias("c_cs"),
        pl.col("total").filter(counted & ~pl.col("especial")).sum().cast(pl.Int64).alias("s_cs"),
        *(
            pl.col(f"n:{name}").filter(counted).sum().cast(pl.Int64).alias(f"n:{name}")
            for name in (*election.columns, "NO_REGISTRADOS", "NULOS")
        ),
    ]


def _tally(row: dict[str, int], *, election: Election, esperadas: int = 0) -> TerritoryTally:
    return TerritoryTally(
        votos=[row[f"n:{name}"] or 0 for name in election.columns],
        no_registrados=row["n:NO_REGISTRADOS"] or 0,
        nulos=row["n:NULOS"] or 0,
        summary=Summary(
            actas_esperadas=esperadas,
            actas_registradas=row["registradas"] or 0,
            actas_contabilizadas=row["contabilizadas"] or 0,
            actas_inconsistencias=row["inconsistencias"] or 0,
            lista_nominal_contabilizadas=row["lista_nominal"] or 0,
            total_votos_c_cs=row["c_cs"] or 0,
            total_votos_s_cs=row["s_cs"] or 0,
        ),
    )


def _porcentaje(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """:func:`truncated_percentage` as a column."""
    scaled = numerator * 1_000_000 // denominator
    return (
        pl.when(denominator <= 0)
        .then(pl.lit("0.0000"))
        .otherwise(
            pl.concat_str(
                (scaled // 10_000).cast(pl.String),
                pl.lit("."),
                (scaled % 10_000).cast(pl.String).str.zfill(4),
            )
        )
    )


def _figuras(participacion: Participacion) -> list[pl.Expr]:
    """:meth:`Summary.fields` of each row of sums (:func:`_sumas` and ``esperadas``) of
    actas of the catalog, as columns in :data:`SUMMARY_FIELDS` order."""
    esperadas, capturadas = pl.col("esperadas"), pl.col("registradas")
    contabilizadas = pl.col("contabilizadas")
    votos = pl.col("c_cs" if participacion is Participacion.FINAL else "s_cs")
    fields = [
        esperadas.cast(pl.String),
        capturadas.cast(pl.String),
        pl.lit("0"),  # ACTAS_FUERA_CATALOGO: none is in a territory
        capturadas.cast(pl.String),
        _porcentaje(capturadas, esperadas),
        contabilizadas.cast(pl.String),
        _porcentaje(contabilizadas, esperadas),
        _porcentaje(pl.col("inconsistencias"), esperadas),
        (capturadas - contabilizadas).cast(pl.String),
        pl.col("lista_nominal").cast(pl.String),
        pl.col("c_cs").cast(pl.String),
        pl.col("s_cs").cast(pl.String),
        _porcentaje(votos, pl.col("lista_nominal")),
    ]
    return [field.alias(name) for name, field in zip(SUMMARY_FIELDS, fields, strict=True)]


def agrupar(
    *,
    election: Election,
    ambito: str,
    tabla: pl.DataFrame,
    fuera: Sequence[Row],
    esperadas: pl.DataFrame,
    labels: Mapping[Observacion, str],
    imagenes: str,
    participacion: Participacion,
) -> Agrupacion:
    """Group the decided actas of the catalog (:mod:`openprep.core.tabla`) by territory:
    their rows, and each territory's and sección's tallies as the core's ``tally`` gives.

    Municipio is the level only when every acta names its municipio (the catalog may not
    carry it); otherwise, and for elections of the whole entidad, the distrito.
    """
    municipio = ambito == "municipio" and tabla.get_column("id_municipio").null_count() == 0
    nivel = Nivel.MUNICIPIO if municipio else Nivel.DISTRITO
    ident = pl.col("id_municipio").fill_null(0) if municipio else pl.col("id_distrito")
    nombre = pl.col("municipio" if municipio else "distrito")
    # A territory is named by its first casilla: expected actas first, then actas.
    nombres = dict(
        pl.concat([esperadas.select(t=ident, n=nombre), tabla.select(t=ident, n=nombre)])
        .unique(subset="t", keep="first", maintain_order=True)
        .iter_rows()
    )
    by_id = {t: Territorio(nivel=nivel, id=t, nombre=n) for t, n in sorted(nombres.items())}

    filas = tabla.select(t=ident, e=pl.col("especial"), s=pl.col("seccion")).with_columns(
        f=filas_acta(tabla, election=election, labels=labels, imagenes=imagenes)
    )
    grupos = grupos_seccion(filas.sort("t", "s", maintain_order=True), width=ancho_tabla(election))
    for (t, especial), part in grupos.partition_by(
        "t", "e", as_dict=True, maintain_order=True
    ).items():
        bodies = list(
            zip(
                part.get_column("s").to_list(),
                part.get_column("html").cast(pl.Binary).to_list(),
                part.get_column("html").str.len_chars().to_list(),
                strict=True,
            )
        )
        if especial:
            by_id[t].especiales = bodies  # type: ignore[index]
        else:
            by_id[t].ordinarias = bodies  # type: ignore[index]

    secciones = (
        tabla.group_by(t=ident, s=pl.col("seccion"))
        .agg(_sumas(election))
        .join(
            esperadas.group_by(t=ident, s=pl.col("seccion")).agg(esperadas=pl.len()),
            on=["t", "s"],
            how="full",
            coalesce=True,
        )
        .fill_null(0)
        .sort("t", "s")
    )
    votos = [f"n:{name}" for name in (*election.columns, "NO_REGISTRADOS", "NULOS")]
    width = len(SUMMARY_FIELDS)
    for t, s, *cells in secciones.select(
        "t", "s", *_figuras(participacion), *(pl.col(v).cast(pl.String) for v in votos)
    ).iter_rows():
        by_id[t].secciones[s] = Seccion(
            resumen=dict(zip(SUMMARY_FIELDS, cells[:width], strict=True)), votos=cells[width:]
        )
    sumas = secciones.group_by("t").agg(pl.exclude("s").sum())
    for row in sumas.iter_rows(named=True):
        territorio = by_id[row["t"]]
        territorio.actas = row["registradas"]
        territorio.tally = _tally(row, election=election, esperadas=row["esperadas"])
    for t, code, n in tabla.group_by(t=ident, o=pl.col("observacion")).len().iter_rows():
        by_id[t].observaciones[observacion_de(code)] = n
    especiales = tabla.filter(pl.col("especial")).select(_sumas(election)).row(0, named=True)
    return Agrupacion(
        nivel=nivel,
        territorios=list(by_id.values()),
        fuera_catalogo=list(fuera),
        especiales=_tally(especiales, election=election),
    )


def figuras(t: TerritoryTally, *, participacion: Participacion) -> dict[str, str]:
    """A territory's summary fields, formatted as the database writes them."""
    return t.summary.fields(participacion=participacion)


def votos_con_porcentaje(
    t: TerritoryTally, *, election: Election
) -> list[tuple[str, str, str, str]]:
    """(column, kind, votes, percentage of the total) per contender, then NR and nulos.

    Percentages are of every vote counted (TOTAL_VOTOS_C_CS), truncated to 4 decimals.
    """
    total = t.total_votos
    result = [
        (c.clave, c.tipo.value, str(v), truncated_percentage(v, total))
        for c, v in zip(election.contenders, t.votos, strict=True)
    ]
    result.append(
        ("NO_REGISTRADOS", "", str(t.no_registrados), truncated_percentage(t.no_registrados, total))
    )
    result.append(("NULOS", "", str(t.nulos), truncated_percentage(t.nulos, total)))
    return result


def rangos(secciones: Iterable[int]) -> list[list[int]]:
    """Sorted secciones as ``[first, last]`` runs: a compact index for the JS search."""
    runs: list[list[int]] = []
    for s in sorted(secciones):
        if runs and runs[-1][1] + 1 == s:
            runs[-1][1] = s
        else:
            runs.append([s, s])
    return runs


def etiquetas(labels: Mapping[Observacion, str]) -> dict[Observacion | None, str]:
    return {None: "Sin observación", **labels}
