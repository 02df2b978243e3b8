"""The election package: the folder an institute loads before election night.

The format is documented for the institutes in ``docs/paquete-electoral.md``:
``proceso.toml`` (process and rule settings), ``casillas.csv``, ``elecciones.csv`` and
``contendientes.csv``, and optionally ``catd.csv`` and ``operadores.csv`` (CATDs and the
accounts of a drill). :func:`leer_paquete` reads and validates all of it without
touching the database and returns a :class:`PaqueteElectoral` (the plan the catalog
services write), or raises one :class:`PackageError` carrying every problem found, each
with file, line and column, so an institute fixes its files in one round.

Cells are parsed one by one, and a bad cell only drops what depends on it: a row with a
bad LISTA_NOMINAL still registers its distrito, so a contender of that distrito is not
reported as unknown too.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from openprep.catalog.errors import PackageError
from openprep.catalog.package_ballots import Registro, leer_contendientes
from openprep.catalog.package_cuentas import leer_catds, leer_operadores, referencias_catd
from openprep.catalog.package_files import Problemas
from openprep.catalog.package_proceso import leer_proceso
from openprep.catalog.package_rows import Casillas, EleccionLeida, leer_casillas, leer_elecciones
from openprep.catalog.package_spec import (
    ActaEsperadaSpec,
    CandidaturaSpec,
    CasillaSpec,
    CatdSpec,
    ContendienteSpec,
    EleccionSpec,
    OperadorSpec,
    PaqueteElectoral,
    ProcesoSpec,
    zona_horaria,
)
from openprep.core import model as core

__all__ = [
    "ActaEsperadaSpec",
    "CandidaturaSpec",
    "CasillaSpec",
    "CatdSpec",
    "ContendienteSpec",
    "EleccionSpec",
    "OperadorSpec",
    "PaqueteElectoral",
    "ProcesoSpec",
    "leer_paquete",
    "zona_horaria",
]


def leer_paquete(directorio: Path) -> PaqueteElectoral:
    """Read and validate the election package in ``directorio``; raise every problem at once."""
    problemas = Problemas()
    if not directorio.is_dir():
        problemas.add(
            str(directorio),
            None,
            "",
            "la carpeta del paquete electoral no existe (o no es una carpeta).",
            "Indique la carpeta que contiene proceso.toml, casillas.csv, elecciones.csv "
            "y contendientes.csv.",
        )
        raise PackageError(problemas.items)
    proceso = leer_proceso(directorio, problemas)
    elecciones = leer_elecciones(directorio, problemas)
    casillas = leer_casillas(directorio, problemas, proceso=proceso, elecciones=elecciones)
    contendientes = leer_contendientes(
        directorio, problemas, elecciones=elecciones, casillas=casillas
    )
    catds = leer_catds(directorio, problemas)
    operadores = leer_operadores(directorio, problemas)
    if problemas.items:
        raise PackageError(problemas.items)
    assert proceso is not None and elecciones is not None and casillas is not None
    assert contendientes is not None
    return PaqueteElectoral(
        directorio=directorio,
        proceso=proceso,
        casillas=tuple(casillas.specs),
        elecciones=tuple(
            _eleccion_spec(e, casillas=casillas, registros=contendientes[e.clave])
            for e in elecciones.filas
        ),
        catds=tuple((catds or {}).values()),
        operadores=tuple(operadores),
        referencias_catd=referencias_catd(catds=catds, casillas=casillas, operadores=operadores),
    )


# --- the plan ----------------------------------------------------------------------------


def _eleccion_spec(
    eleccion: EleccionLeida, *, casillas: Casillas, registros: list[Registro]
) -> EleccionSpec:
    assert eleccion.nombre and eleccion.ambito and eleccion.tipo_acta
    assert eleccion.tipo_acta_especial is not None
    ordenes = {r.contendiente: r.orden for r in registros}
    columnas = tuple(sorted(ordenes, key=ordenes.__getitem__))
    en_boleta: dict[int | None, set[str]] = defaultdict(set)
    for r in registros:
        en_boleta[r.territorio].add(r.contendiente)
    actas = []
    for spec in casillas.specs:
        casilla = spec.casilla
        tipo_acta = eleccion.tipo_acta_especial if casilla.especial else eleccion.tipo_acta
        if not tipo_acta:
            continue  # especiales do not vote in this election
        territorio = {
            "entidad": None,
            "distrito": casilla.id_distrito,
            "municipio": casilla.id_municipio,
        }[eleccion.ambito]
        boleta = en_boleta[None] | (en_boleta[territorio] if territorio is not None else set())
        actas.append(
            ActaEsperadaSpec(
                casilla=casilla,
                lista_nominal=spec.lista_nominal,
                tipo_acta=tipo_acta,
                representantes_pp_ci=spec.representantes_pp_ci,
                no_aplica=tuple(c for c in columnas if c not in boleta),
            )
        )
    return EleccionSpec(
        clave=eleccion.clave,
        nombre=eleccion.nombre,
        ambito=eleccion.ambito,
        tipo_acta=eleccion.tipo_acta,
        tipo_acta_especial=eleccion.tipo_acta_especial,
        contendientes=tuple(
            ContendienteSpec(clave=c, tipo=core.classify_contender(c), orden=ordenes[c])
            for c in columnas
        ),
        candidaturas=tuple(
            CandidaturaSpec(
                contendiente=r.contendiente,
                id_territorio=r.territorio,
                propietario=r.propietario,
                suplente=r.suplente,
            )
            for r in sorted(registros, key=lambda r: (r.territorio or 0, r.orden))
        ),
        actas=tuple(actas),
    )
