"""A synthetic state: distritos, municipios, secciones and casillas of every kind, and CATDs.

Invented names, realistic shape (DOMAIN.md §2):

- secciones numbered from 1 (four digits at most), each with its lista nominal split
  evenly over one básica and its contiguas, no casilla above 750 voters; a few no
  urbana secciones also have an extraordinaria (``E``, ``EXT_CONTIGUA`` 0) and its
  contigua (``EXT_CONTIGUA`` 1), with part of the sección's voters;
- especiales (``S``, lista nominal 0) in urban secciones, about one casilla in 200;
- prisión preventiva (``V``), one per 10,000 casillas at least one, with a small list;
- distritos of equal size in casillas and municipios of very unequal size (a capital and
  many small ones), both contiguous runs of secciones, so they cut across each other;
- one CATD per distrito, which receives the packages of its casillas.

Mesas de escrutinio (``M``) are left out: the catalog would expect their actas in every
election, while they count only the vote from abroad of the state-wide one.

At 50,000 casillas a state would need more than 9,999 secciones of usual size; the
secciones then grow (about 5.5 casillas each) so that the number stays four digits.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from dataclasses import dataclass

from openprep.core import model as core
from openprep.core.errors import UserError

ID_ENTIDAD = 23
ENTIDAD = "COSTA MAYA"
"""An invented state; its id is Quintana Roo's, so the time zone is America/Cancun."""
ZONA_HORARIA = "America/Cancun"

MIN_CASILLAS = 20
MAX_CASILLAS = 200_000
MAX_SECCIONES = 8_500
"""Target: the random sizes stay under 9,999, the most four digits hold."""
MAX_POR_CASILLA = 750

_SILABAS = (
    "CHAC", "KAB", "LUM", "BAL", "XUL", "TUN", "KIN", "PET", "NAL", "CEH",
    "HOL", "MUCH", "TZIB", "YAX", "NOH", "SAC", "CHUN", "TIX", "PAK", "OX",
)  # fmt: skip
_FINALES = ("CAB", "TAN", "MUL", "CHÉN", "BÉ", "HÁ", "KAAX", "TÚN", "IL", "NIC")


class SimulacionError(UserError):
    """A synthetic election that cannot be made as asked."""


@dataclass(frozen=True, slots=True)
class CasillaSimulada:
    casilla: core.Casilla
    lista_nominal: int
    catd: str


@dataclass(frozen=True, slots=True)
class Territorio:
    distritos: dict[int, str]
    municipios: dict[int, str]
    secciones: int
    casillas: tuple[CasillaSimulada, ...]
    """In publication order: distrito, sección, then B, C, E, S, V."""
    catds: dict[str, str]
    """CATD clave → name, one per distrito."""


def clave_catd(id_distrito: int) -> str:
    return f"CATD-{id_distrito:02d}"


def construir(*, casillas: int, rng: random.Random) -> Territorio:
    """A state with exactly ``casillas`` casillas."""
    if not MIN_CASILLAS <= casillas <= MAX_CASILLAS:
        raise SimulacionError(
            f"no se puede simular una elección con {casillas:,} casillas.",
            hint=f"Pida entre {MIN_CASILLAS} y {MAX_CASILLAS:,} casillas.",
        )
    especiales = max(1, round(casillas * 0.005))
    prision = max(1, casillas // 10_000)
    ordinarias = casillas - especiales - prision
    promedio = max(2.3, ordinarias / MAX_SECCIONES)
    secciones = _secciones(ordinarias, promedio=promedio, rng=rng)
    while len(secciones) > 9_999:  # SECCION has four digits: larger secciones, fewer of them
        promedio *= 1.05
        secciones = _secciones(ordinarias, promedio=promedio, rng=rng)
    n_distritos = max(2, min(40, round(casillas / 400), len(secciones) // 2))
    n_municipios = max(2, min(60, round(casillas / 350), len(secciones) // 2))
    distrito_de = _por_tamano(secciones, n_distritos)
    municipio_de = _por_bloques(len(secciones), n_municipios, rng=rng)
    municipios = _nombres(n_municipios, rng=rng)
    urbanas = [i for i, s in enumerate(secciones) if s[0] == 1] or list(range(len(secciones)))
    extra: dict[int, list[tuple[str, int]]] = {}
    for i in rng.sample(urbanas * (1 + especiales // len(urbanas)), especiales):
        extra.setdefault(i, []).append(("S", 0))
    for i in rng.sample(range(len(secciones)), prision):
        extra.setdefault(i, []).append(("V", rng.randint(60, 400)))
    filas: list[CasillaSimulada] = []
    for i, (ubicacion, grupos) in enumerate(secciones):
        id_distrito = distrito_de[i]
        id_municipio = municipio_de[i]
        base = core.Casilla(
            id_entidad=ID_ENTIDAD,
            entidad=ENTIDAD,
            id_distrito=id_distrito,
            distrito=f"DISTRITO {id_distrito}",
            seccion=i + 1,
            tipo="B",
            id_casilla=1,
            ext_contigua=0,
            ubicacion=ubicacion,
            id_municipio=id_municipio,
            municipio=municipios[id_municipio],
        )
        catd = clave_catd(id_distrito)
        identidades = [*grupos]
        vistos: dict[str, int] = {}
        for tipo, lista in extra.get(i, ()):
            vistos[tipo] = vistos.get(tipo, 0) + 1
            identidades.append((tipo, vistos[tipo], 0, lista))
        for tipo, id_casilla, ext, lista in identidades:
            casilla = base._replace(tipo=tipo, id_casilla=id_casilla, ext_contigua=ext)
            filas.append(CasillaSimulada(casilla=casilla, lista_nominal=lista, catd=catd))
    filas.sort(key=lambda c: (c.casilla.id_distrito, c.casilla.seccion))
    return Territorio(
        distritos={d: f"DISTRITO {d}" for d in range(1, n_distritos + 1)},
        municipios=municipios,
        secciones=len(secciones),
        casillas=tuple(filas),
        catds={clave_catd(d): f"CATD DISTRITO {d}" for d in range(1, n_distritos + 1)},
    )


Grupo = tuple[str, int, int, int]
"""A casilla of a sección: tipo, ID_CASILLA, EXT_CONTIGUA, lista nominal."""


def _secciones(
    ordinarias: int, *, promedio: float, rng: random.Random
) -> list[tuple[int, list[Grupo]]]:
    """Secciones (ubicación, casillas) until exactly ``ordinarias`` casillas."""
    secciones: list[tuple[int, list[Grupo]]] = []
    restantes = ordinarias
    while restantes > 0:
        urbana = rng.random() < 0.7
        # int() of an exponential with this mean averages ``promedio - 1``.
        n = 1 + min(
            int(rng.expovariate(math.log(promedio / (promedio - 1)))), 3 * math.ceil(promedio)
        )
        n = min(n, restantes)
        restantes -= n
        grupos = _casillas_de_seccion(n, urbana=urbana, rng=rng)
        secciones.append((1 if urbana else 2, grupos))
    return secciones


def _casillas_de_seccion(n: int, *, urbana: bool, rng: random.Random) -> list[Grupo]:
    """One básica, contiguas, and in some rural secciones an extraordinaria group."""
    extraordinarias = 0
    if not urbana and n >= 2 and rng.random() < 0.15:
        extraordinarias = min(n - 1, rng.choice((1, 1, 2)))
    ordinarias = n - extraordinarias
    por_casilla = rng.randint(420, 720) if urbana else rng.randint(250, 640)
    lista = ordinarias * por_casilla - rng.randint(0, por_casilla // 2)
    grupos: list[Grupo] = []
    for k, parte in enumerate(_repartir(lista, ordinarias)):
        grupos.append(("B", 1, 0, parte) if k == 0 else ("C", k, 0, parte))
    if extraordinarias:
        lista_e = extraordinarias * rng.randint(120, 600)
        for k, parte in enumerate(_repartir(lista_e, extraordinarias)):
            grupos.append(("E", 1, k, parte))
    return grupos


def _repartir(total: int, partes: int) -> list[int]:
    """Split a list evenly, the first casillas taking the remainder (as INE splits it)."""
    base, resto = divmod(total, partes)
    cuotas = [base + (1 if k < resto else 0) for k in range(partes)]
    assert max(cuotas) <= MAX_POR_CASILLA
    return cuotas


def _por_tamano(secciones: list[tuple[int, list[Grupo]]], n: int) -> list[int]:
    """Distrito of each sección: contiguous runs with about the same number of casillas."""
    total = sum(len(g) for _, g in secciones)
    resultado: list[int] = []
    acumulado, previo = 0, 1
    for i, (_, grupos) in enumerate(secciones):
        propio = min(n, 1 + acumulado * n // total)
        # No distrito skipped, and enough secciones left for the ones still to come.
        previo = max(min(propio, previo + 1), n - (len(secciones) - 1 - i))
        resultado.append(previo)
        acumulado += len(grupos)
    return resultado


def _por_bloques(secciones: int, n: int, *, rng: random.Random) -> list[int]:
    """Municipio of each sección: contiguous runs of very unequal size, none empty."""
    pesos = [rng.paretovariate(1.2) for _ in range(n)]
    libres = secciones - n
    total = sum(pesos)
    tamanos = [1 + int(libres * p / total) for p in pesos]
    tamanos[0] += secciones - sum(tamanos)
    cortes, acumulado = [], 0
    for t in tamanos:
        acumulado += t
        cortes.append(acumulado)
    return [1 + bisect_right(cortes, i) for i in range(secciones)]


def _nombres(n: int, *, rng: random.Random) -> dict[int, str]:
    vistos: set[str] = set()
    nombres: dict[int, str] = {}
    while len(nombres) < n:
        nombre = rng.choice(_SILABAS) + rng.choice(_FINALES)
        if len(vistos) >= len(_SILABAS) * len(_FINALES) // 2:
            nombre = f"{nombre} {len(nombres) + 1}"
        if nombre not in vistos:
            vistos.add(nombre)
            nombres[len(nombres) + 1] = nombre
    return nombres
