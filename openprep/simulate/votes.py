"""Votes and the night's facts for each synthetic acta.

Shares vary by territory (a multiplier per party for each distrito or municipio, and per
sección, shared by the three elections as the same voters cast them) and per casilla
(gamma noise); turnout is 45–70 % of the lista nominal, the same citizens in every
election of a casilla, plus the representatives who voted. The acta's control figures
follow the reference database: TOTAL_VOTOS_SACADOS = TOTAL_PERSONAS_VOTARON +
TOTAL_REP_PARTIDO_CI_VOTARON, and TOTAL_BOLETAS_SOBRANTES = ballots − votes, ballots
being the lista nominal (or the especial's ballots) plus two per party or candidacy.

:class:`Proporciones` holds the shares of the anomalies the night must handle.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from openprep.core import model as core
from openprep.simulate.ballots import COALICIONES, PARTIDOS, EleccionSimulada, columnas_de_coalicion
from openprep.simulate.geography import CasillaSimulada, SimulacionError

BOLETAS_ESPECIAL = 750
_BASE = {
    "PAN": 0.17, "PRI": 0.12, "PRD": 0.03, "PVEM": 0.06,
    "PT": 0.05, "MC": 0.10, "MORENA": 0.36, "MPC": 0.04,
}  # fmt: skip
_SIN_ACTA_CASILLA = (
    core.MotivoSinActa.PAQUETE_NO_ENTREGADO,
    core.MotivoSinActa.CASILLA_NO_INSTALADA,
)
_SIN_ACTA_ACTA = (core.MotivoSinActa.PAQUETE_SIN_SOBRE, core.MotivoSinActa.CONTINGENCIA)
_MECANISMOS = ("F", "D", "I", "")
_PESO_MECANISMOS = (0.45, 0.30, 0.10, 0.15)


@dataclass(frozen=True, slots=True)
class Proporciones:
    """Shares of actas with each anomaly (0 to 1)."""

    ilegible: float = 0.01
    """Actas with one or two vote fields ILEGIBLE."""
    sin_dato: float = 0.01
    """Actas with one to four fields SIN DATO (mostly coalition columns left blank)."""
    todos_ilegibles: float = 0.001
    """Actas whose every vote field is ILEGIBLE or SIN DATO (they do not count)."""
    excede_lista_nominal: float = 0.003
    sin_acta: float = 0.01
    """Half whole packages (no entregado, casilla no instalada), half single actas."""
    fuera_catalogo: float = 0.002
    """Extra actas, per election, whose casilla is not in the catalog."""
    prep_casilla: float = 0.6
    """Actas photographed at the casilla (ORIGEN CASILLA, DIGITALIZACION MOVIL)."""

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise SimulacionError(
                    f"la proporción {name} debe estar entre 0 y 1, no {value}.",
                    hint="Escriba una fracción: 0.01 es el 1 % de las actas.",
                )


@dataclass(frozen=True, slots=True)
class Llegada:
    """What happens to a casilla's package on the night."""

    votantes: int
    representantes: int
    mecanismo: str
    paquete: datetime
    """Local time the package reaches its CATD."""
    sin_acta: core.MotivoSinActa | None


class Jornada:
    """Draws, casilla by casilla, the facts shared by its actas; then each acta's votes."""

    def __init__(self, *, seed: int, cierre: datetime, proporciones: Proporciones) -> None:
        self._rng = random.Random(f"{seed}:jornada")
        self._seed = seed
        self.cierre = cierre
        self.proporciones = proporciones
        self._territorios: dict[tuple[str, int | None], dict[str, float]] = {}
        self._secciones: dict[int, tuple[dict[str, float], float]] = {}
        self._turno_casilla = 0
        self._turno_acta = 0

    def llegada(self, sim: CasillaSimulada) -> Llegada:
        rng = self._rng
        _, participacion = self._seccion(sim.casilla.seccion)
        if sim.casilla.especial:
            votantes = round(BOLETAS_ESPECIAL * rng.uniform(0.08, 0.45))
        else:
            tasa = min(0.70, max(0.45, participacion + rng.gauss(0, 0.02)))
            votantes = round(sim.lista_nominal * tasa)
        sin_acta = None
        if rng.random() < self.proporciones.sin_acta / 2:
            sin_acta = _SIN_ACTA_CASILLA[self._turno_casilla % 2]
            self._turno_casilla += 1
        horas = 0.6 + min(rng.gammavariate(2.0, 1.2), 20.0)
        paquete = self.cierre + timedelta(minutes=round(horas * 60))
        return Llegada(
            votantes=votantes,
            representantes=rng.randint(0, 8),
            mecanismo=rng.choices(_MECANISMOS, _PESO_MECANISMOS)[0],
            paquete=paquete,
            sin_acta=sin_acta,
        )

    def sin_acta(self, llegada: Llegada, rng: random.Random) -> core.MotivoSinActa | None:
        if llegada.sin_acta is not None:
            return llegada.sin_acta
        if rng.random() < self.proporciones.sin_acta / 2:
            self._turno_acta += 1
            return _SIN_ACTA_ACTA[self._turno_acta % 2]
        return None

    def _seccion(self, seccion: int) -> tuple[dict[str, float], float]:
        found = self._secciones.get(seccion)
        if found is None:
            rng = self._rng
            preferencias = {p: rng.lognormvariate(0, 0.25) for p in PARTIDOS}
            found = self._secciones[seccion] = (preferencias, rng.uniform(0.45, 0.70))
        return found

    def _territorio(self, eleccion: EleccionSimulada, territorio: int | None) -> dict[str, float]:
        key = (eleccion.clave, territorio)
        found = self._territorios.get(key)
        if found is None:
            rng = random.Random(f"{self._seed}:territorio:{key}")
            found = self._territorios[key] = {p: rng.lognormvariate(0, 0.3) for p in PARTIDOS}
        return found

    def votos(
        self,
        *,
        eleccion: EleccionSimulada,
        casilla: core.Casilla,
        lista_nominal: int,
        llegada: Llegada,
        boleta: frozenset[str],
        rng: random.Random,
        excede: bool,
    ) -> dict[str, int]:
        """Every field of the acta (control, each column on the ballot, tail) as a number."""
        seccion, _ = self._seccion(casilla.seccion)
        territorio = self._territorio(eleccion, eleccion.territorio(casilla))
        pesos: dict[str, float] = {}
        for p in PARTIDOS:
            pesos[p] = _BASE[p] * seccion[p] * territorio[p] * rng.gammavariate(40, 1 / 40)
        for coalicion in COALICIONES:
            columnas = [c for c in columnas_de_coalicion(coalicion) if c in boleta]
            if columnas:
                conjunto = sum(pesos[p] for p in coalicion) * rng.uniform(0.02, 0.06)
                for i, c in enumerate(columnas):
                    pesos[c] = conjunto * (0.5 if i == 0 else 0.5 / (len(columnas) - 1))
        for c in boleta - pesos.keys():  # independent candidacies
            pesos[c] = rng.uniform(0.02, 0.10)
        validos = sum(pesos.values())
        pesos["NULOS"] = validos * rng.uniform(0.015, 0.045)
        pesos["NO_REGISTRADOS"] = validos * rng.uniform(0, 0.003)
        contendientes = 2 * sum(1 for c in boleta if "_" not in c or c.startswith("CAND_IND"))
        lista = BOLETAS_ESPECIAL if casilla.especial else lista_nominal
        representantes = min(llegada.representantes, contendientes)
        total = llegada.votantes + representantes
        if excede:
            total = lista + contendientes + rng.randint(1, 40)
        valores = _repartir(total, pesos)
        boletas = lista + contendientes
        valores.update(
            TOTAL_BOLETAS_SOBRANTES=max(0, boletas - total),
            TOTAL_PERSONAS_VOTARON=total - representantes,
            TOTAL_REP_PARTIDO_CI_VOTARON=representantes,
            TOTAL_VOTOS_SACADOS=total,
            TOTAL_VOTOS_ASENTADO=total + (rng.randint(-3, 3) if rng.random() < 0.02 else 0),
        )
        return valores

    def hora_acta(self, llegada: Llegada, *, movil: bool, rng: random.Random) -> datetime:
        """When the acta is registered: its photo from the casilla, or its package's arrival."""
        if not movil:
            return llegada.paquete
        horas = 0.4 + min(rng.gammavariate(2.0, 0.45), 6.0)
        return self.cierre + timedelta(seconds=round(horas * 3600))


def _repartir(total: int, pesos: dict[str, float]) -> dict[str, int]:
    """Split ``total`` votes by weight: floors, then the remainder to the largest fractions."""
    suma = sum(pesos.values())
    exactos = {k: total * w / suma for k, w in pesos.items()}
    valores = {k: int(v) for k, v in exactos.items()}
    resto = total - sum(valores.values())
    for k in sorted(exactos, key=lambda k: valores[k] - exactos[k])[:resto]:
        valores[k] += 1
    return valores


def marcar(
    valores: dict[str, int],
    *,
    campos_voto: list[str],
    proporciones: Proporciones,
    rng: random.Random,
) -> dict[str, str]:
    """The acta as captured: numbers as text, some fields ILEGIBLE or SIN DATO."""
    texto = {k: str(v) for k, v in valores.items()}
    sorteo = rng.random()
    if sorteo < proporciones.todos_ilegibles:
        marca = core.Marca.SIN_DATO if rng.random() < 0.7 else core.Marca.ILEGIBLE
        for campo in campos_voto:
            texto[campo] = marca.value
        return texto
    sorteo = rng.random()
    if sorteo < proporciones.ilegible:
        for campo in rng.sample(campos_voto, min(len(campos_voto), rng.randint(1, 2))):
            texto[campo] = core.Marca.ILEGIBLE.value
    sorteo = rng.random()
    if sorteo < proporciones.sin_dato:
        coaliciones = [c for c in campos_voto if c.startswith("C_")]
        candidatos = coaliciones if coaliciones and rng.random() < 0.7 else campos_voto
        for campo in rng.sample(candidatos, min(len(candidatos), rng.randint(1, 4))):
            texto[campo] = core.Marca.SIN_DATO.value
        if rng.random() < 0.3:
            texto["TOTAL_REP_PARTIDO_CI_VOTARON"] = core.Marca.SIN_DATO.value
    return texto
