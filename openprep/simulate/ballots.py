"""The synthetic elections and their ballots: parties, coalitions, independent candidacies.

Three elections with distinct TIPO_ACTA (especiales with their own): GUBERNATURA
(state-wide: one ballot), DIPUTACIONES LOCALES (one ballot per distrito) and
AYUNTAMIENTOS (one per municipio). Columns follow the reference database: the parties,
then each coalition's combination columns (``C_PAN_PRI_PRD``, ``C_PAN_PRI``…), then the
independent candidacies ``CAND_IND_n``. In DIPUTACIONES and AYUNTAMIENTOS coalitions and
independent candidacies run in some territories only, so their columns are ``-``
elsewhere; distrito and municipio 1 always have all of them and 2 none, so every
package shows both cases.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

from openprep.core import model as core
from openprep.simulate.geography import Territorio

PARTIDOS = ("PAN", "PRI", "PRD", "PVEM", "PT", "MC", "MORENA", "MPC")
"""National parties and one invented local party (MPC)."""
COALICIONES = (("PAN", "PRI", "PRD"), ("PVEM", "PT", "MORENA"))
INDEPENDIENTES = ("CAND_IND_1", "CAND_IND_2")

_NOMBRES = (
    "ANA", "LUIS", "MARÍA", "JOSÉ", "ROSA", "JUAN", "ELENA", "PEDRO", "LAURA", "CARLOS",
    "SOFÍA", "MIGUEL", "ISABEL", "JORGE", "PATRICIA", "RAÚL", "GABRIELA", "ANDRÉS",
)  # fmt: skip
_APELLIDOS = (
    "PECH", "CHAN", "MAY", "CANUL", "DZIB", "POOT", "TUZ", "UC", "KU", "EK", "NAH", "CEN",
    "LÓPEZ", "PÉREZ", "GÓMEZ", "RAMÍREZ", "HERNÁNDEZ", "CRUZ", "MORALES", "VÁZQUEZ",
)  # fmt: skip


def columnas_de_coalicion(partidos: tuple[str, ...]) -> tuple[str, ...]:
    """Every combination of two or more of its parties, the widest first (C_PAN_PRI_PRD…)."""
    return tuple(
        "C_" + "_".join(combinacion)
        for n in range(len(partidos), 1, -1)
        for combinacion in itertools.combinations(partidos, n)
    )


COLUMNAS = (
    *PARTIDOS,
    *(c for coalicion in COALICIONES for c in columnas_de_coalicion(coalicion)),
    *INDEPENDIENTES,
)


@dataclass(frozen=True, slots=True)
class Candidatura:
    columna: str
    territorio: int | None
    """``None``: every ballot of the election (registered as TODOS)."""
    propietario: str
    suplente: str


@dataclass(frozen=True, slots=True)
class EleccionSimulada:
    clave: str
    nombre: str
    ambito: str
    tipo_acta: str
    tipo_acta_especial: str
    columnas: tuple[str, ...]
    candidaturas: tuple[Candidatura, ...]
    boletas: dict[int | None, frozenset[str]]
    """Columns on each territory's ballot (``None``: the one state-wide ballot)."""

    def territorio(self, casilla: core.Casilla) -> int | None:
        if self.ambito == "distrito":
            return casilla.id_distrito
        if self.ambito == "municipio":
            return casilla.id_municipio
        return None

    def boleta(self, casilla: core.Casilla) -> frozenset[str]:
        return self.boletas[self.territorio(casilla)]

    def tipo_acta_de(self, casilla: core.Casilla) -> str:
        return self.tipo_acta_especial if casilla.especial else self.tipo_acta

    @property
    def election(self) -> core.Election:
        return core.Election(
            nombre=self.nombre,
            contenders=tuple(core.Contender.from_column(c) for c in self.columnas),
        )


def elecciones(territorio: Territorio, *, rng: random.Random) -> tuple[EleccionSimulada, ...]:
    return (
        _eleccion("GUB", "GUBERNATURA", "entidad", ("1", "6"), [None], rng=rng),
        _eleccion(
            "DIP",
            "DIPUTACIONES LOCALES",
            "distrito",
            ("2", "3"),
            list(territorio.distritos),
            rng=rng,
        ),
        _eleccion(
            "AYUN",
            "AYUNTAMIENTOS",
            "municipio",
            ("4", "5"),
            list(territorio.municipios),
            rng=rng,
        ),
    )


def _eleccion(
    clave: str,
    nombre: str,
    ambito: str,
    tipos: tuple[str, str],
    territorios: list[int | None],
    *,
    rng: random.Random,
) -> EleccionSimulada:
    candidaturas: list[Candidatura] = []
    boletas: dict[int | None, frozenset[str]] = {}
    for t in territorios:
        en_boleta = list(PARTIDOS)
        persona = {p: _persona(rng) for p in PARTIDOS}
        for coalicion in COALICIONES:
            if t is None or t == 1 or (t != 2 and rng.random() < 0.7):
                candidato = _persona(rng)
                for p in coalicion:
                    persona[p] = candidato
                for columna in columnas_de_coalicion(coalicion):
                    en_boleta.append(columna)
                    persona[columna] = candidato
        for k, independiente in enumerate(INDEPENDIENTES):
            if (
                (t is None and k == 0)
                or t == 1
                or (t not in (None, 2) and rng.random() < 0.25 / (k + 1))
            ):
                en_boleta.append(independiente)
                persona[independiente] = _persona(rng)
        boletas[t] = frozenset(en_boleta)
        candidaturas.extend(Candidatura(c, t, *persona[c]) for c in COLUMNAS if c in boletas[t])
    columnas = tuple(c for c in COLUMNAS if any(c in b for b in boletas.values()))
    return EleccionSimulada(
        clave=clave,
        nombre=nombre,
        ambito=ambito,
        tipo_acta=tipos[0],
        tipo_acta_especial=tipos[1],
        columnas=columnas,
        candidaturas=tuple(candidaturas),
        boletas=boletas,
    )


def _persona(rng: random.Random) -> tuple[str, str]:
    def nombre() -> str:
        return f"{rng.choice(_NOMBRES)} {rng.choice(_APELLIDOS)} {rng.choice(_APELLIDOS)}"

    return nombre(), nombre()
