"""The public site's figures: an election's actas grouped by territory and tallied by the core.

Every figure comes from :func:`openprep.core.tally.tally`, called once per territory at
the sección level (one pass over the actas in all); a territory's figures are its
secciones' tallies merged, and the election's its territories'. Actas fuera de catálogo
are listed apart and enter no territory: their captured identity may name none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from openprep.core.model import ActaRecord, Casilla, Election
from openprep.core.rules import Decision, Observacion, Participacion
from openprep.core.tally import Nivel, TerritoryTally, tally, truncated_percentage

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


@dataclass
class Territorio:
    """A distrito or municipio of one election: its actas, secciones and figures."""

    nivel: Nivel
    id: int
    nombre: str
    actas: list[Row] = field(default_factory=list)
    esperadas: list[Casilla] = field(default_factory=list)
    secciones: dict[int, TerritoryTally] = field(default_factory=dict)
    tally: TerritoryTally | None = None

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

    def por_tipo(self) -> tuple[list[Row], list[Row]]:
        """The actas of casillas ordinarias, then those of casillas especiales (one pass)."""
        ordinarias: list[Row] = []
        especiales: list[Row] = []
        for row in self.actas:
            (especiales if row[0].casilla.especial else ordinarias).append(row)
        return ordinarias, especiales


@dataclass
class Agrupacion:
    """An election's actas by territory, with the tallies the pages show."""

    nivel: Nivel
    territorios: list[Territorio]
    fuera_catalogo: list[Row]
    especiales: TerritoryTally


def nivel_de(ambito: str, rows: Sequence[Row]) -> Nivel:
    """The drill-down level under the entidad.

    Municipio only when every acta names its municipio (the catalog may not carry it);
    otherwise, and for elections of the whole entidad, the distrito every acta names.
    """
    if ambito == "municipio" and all(
        a.casilla.id_municipio is not None for a, _ in rows if not a.fuera_catalogo
    ):
        return Nivel.MUNICIPIO
    return Nivel.DISTRITO


def _place(casilla: Casilla, nivel: Nivel) -> tuple[int, str]:
    if nivel is Nivel.MUNICIPIO:
        return int(casilla.id_municipio or 0), casilla.municipio
    return casilla.id_distrito, casilla.distrito


def agrupar(
    *, election: Election, ambito: str, rows: Sequence[Row], esperadas: Sequence[Casilla]
) -> Agrupacion:
    """Group the actas by territory and tally each territory's secciones."""
    nivel = nivel_de(ambito, rows)
    by_id: dict[int, Territorio] = {}
    fuera: list[Row] = []
    # Consecutive actas and casillas mostly share their territory: the last one found is
    # tried first (``_place`` reads the same fields, this skips the call and the lookup).
    campo = 9 if nivel is Nivel.MUNICIPIO else 2  # id_municipio or id_distrito
    last: tuple[object, Territorio] | None = None

    def territorio(casilla: Casilla) -> Territorio:
        nonlocal last
        raw = casilla[campo]
        if last is not None and last[0] == raw:
            return last[1]
        ident, nombre = _place(casilla, nivel)
        found = by_id.get(ident)
        if found is None:
            found = by_id[ident] = Territorio(nivel=nivel, id=ident, nombre=nombre)
        last = (raw, found)
        return found

    for casilla in esperadas:
        territorio(casilla).esperadas.append(casilla)
    for row in rows:
        if row[0].fuera_catalogo:
            fuera.append(row)
        else:
            territorio(row[0].casilla).actas.append(row)
    territorios = [by_id[k] for k in sorted(by_id)]
    for t in territorios:
        t.actas.sort(key=lambda r: r[0].casilla.seccion)  # stable: catalog order within
    especiales = [r for t in territorios for r in t.actas if r[0].casilla.especial]
    return Agrupacion(
        nivel=nivel,
        territorios=territorios,
        fuera_catalogo=fuera,
        especiales=tally_de(especiales, election=election),
    )


def tally_secciones(t: Territorio, *, election: Election) -> None:
    """Tally the territory's secciones (the core's ``tally``) and merge them into its total."""
    by_key = tally(t.actas, election=election, nivel=Nivel.SECCION, esperadas=t.esperadas)
    # Within one territory the entidad is fixed: the sección alone names the group.
    t.secciones = {int(str(k[1])): v for k, v in sorted(by_key.items(), key=_by_seccion)}
    t.tally = merged(t.secciones.values(), width=len(election.contenders))


def _by_seccion(item: tuple[tuple[object, ...], TerritoryTally]) -> int:
    return int(str(item[0][1]))


def tally_de(rows: Sequence[Row], *, election: Election) -> TerritoryTally:
    """The tally of a set of actas taken as one territory."""
    parts = tally(rows, election=election, nivel=Nivel.ENTIDAD).values()
    return merged(parts, width=len(election.contenders))


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


def observaciones(rows: Iterable[Row]) -> dict[Observacion | None, int]:
    """How many actas carry each observation (``None``: counted without observation)."""
    counts: dict[Observacion | None, int] = {}
    for _, decision in rows:
        counts[decision.observacion] = counts.get(decision.observacion, 0) + 1
    return counts


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
