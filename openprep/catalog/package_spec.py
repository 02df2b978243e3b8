"""The election package's shape: file and column names, and the validated values it yields.

Shared by the readers (``package_*.py``) and :mod:`openprep.catalog.package`; the format
is documented for the institutes in ``docs/paquete-electoral.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from openprep.catalog.errors import CatalogError
from openprep.core import model as core

ARCHIVO_PROCESO = "proceso.toml"
ARCHIVO_CASILLAS = "casillas.csv"
ARCHIVO_ELECCIONES = "elecciones.csv"
ARCHIVO_CONTENDIENTES = "contendientes.csv"
ARCHIVO_CATD = "catd.csv"
ARCHIVO_OPERADORES = "operadores.csv"

COLUMNAS_CASILLAS = (
    "ID_ESTADO",
    "ESTADO",
    "ID_DISTRITO",
    "DISTRITO",
    "ID_MUNICIPIO",
    "MUNICIPIO",
    "SECCION",
    "TIPO_CASILLA",
    "ID_CASILLA",
    "EXT_CONTIGUA",
    "UBICACION_CASILLA",
    "LISTA_NOMINAL",
)
COLUMNAS_ELECCIONES = ("ELECCION", "NOMBRE", "AMBITO", "TIPO_ACTA", "TIPO_ACTA_ESPECIAL")
COLUMNAS_CONTENDIENTES = ("ELECCION", "ID_TERRITORIO", "ORDEN", "PARTIDO_CI")
OPCIONALES_CASILLAS = ("REPRESENTANTES_PP_CI", "CATD")
COLUMNAS_CATD = ("CLAVE", "NOMBRE")
COLUMNAS_OPERADORES = ("USUARIO", "ROL", "CATD", "CLAVE")
OPCIONALES_CONTENDIENTES = ("CANDIDATURA_PROPIETARIA", "CANDIDATURA_SUPLENTE")

AMBITOS = ("entidad", "distrito", "municipio")
TODOS = "TODOS"
MAX_DURACION = timedelta(hours=24)
"""Publication lasts at most 24 hours (DOMAIN.md §6)."""

CLAVE_ELECCION = re.compile(r"[A-Z0-9_]{1,20}")
CLAVE_CONTENDIENTE = re.compile(r"[A-Z][A-Z0-9_]{0,59}")
ENTERO = re.compile(r"[0-9]+")
NEGATIVO = re.compile(r"-[0-9]+")
MAX_SMALL = 32767
MAX_INT = 2147483647

COLUMNAS_RESERVADAS = frozenset(
    {
        "CLAVE_CASILLA",
        "CLAVE_ACTA",
        "TIPO_ACTA",
        "NO_REGISTRADOS",
        "NO_REGISTRADAS",
        "NULOS",
        "TOTAL_VOTOS_ASENTADO",
        "TOTAL_VOTOS_CALCULADO",
        "TOTAL_VOTOS_CALCULADOS",
        "OBSERVACIONES",
        "CONTABILIZADA",
        "MECANISMOS_TRASLADO",
        "SHA",
        "ORIGEN",
        "DIGITALIZACION",
        "TIPO_DOCUMENTO",
        *core.CONTROL_FIELDS,
        *COLUMNAS_CASILLAS,
        *OPCIONALES_CASILLAS,
    }
)
"""Published database columns a contender cannot be named after."""


@dataclass(frozen=True, slots=True)
class ActaEsperadaSpec:
    """One expected acta as a catalog package states it."""

    casilla: core.Casilla
    lista_nominal: int
    tipo_acta: str
    representantes_pp_ci: int = 0
    no_aplica: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProcesoSpec:
    instituto: str
    id_entidad: int
    entidad: str
    zona_horaria: str
    inicio_publicacion: datetime
    intervalo_minutos: int
    fin_publicacion: datetime
    representantes: str
    boletas_especial: int
    etiquetas: str


@dataclass(frozen=True, slots=True)
class CasillaSpec:
    casilla: core.Casilla
    lista_nominal: int
    representantes_pp_ci: int
    catd: str = ""
    """Clave of the CATD that receives the casilla's package; empty when not stated."""


@dataclass(frozen=True, slots=True)
class CatdSpec:
    clave: str
    nombre: str


@dataclass(frozen=True, slots=True)
class OperadorSpec:
    """An account for a drill (``operadores.csv``); the password never leaves the import."""

    linea: int
    usuario: str
    rol: str
    catd: str
    """Clave of the CATD; empty only for an administrador."""
    clave: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ReferenciaCatd:
    """A CATD named in the package but not in ``catd.csv``: it must already exist."""

    clave: str
    archivo: str
    linea: int


@dataclass(frozen=True, slots=True)
class ContendienteSpec:
    clave: str
    tipo: core.TipoContendiente
    orden: int


@dataclass(frozen=True, slots=True)
class CandidaturaSpec:
    contendiente: str
    id_territorio: int | None
    """``None``: every territory of the election."""
    propietario: str
    suplente: str


@dataclass(frozen=True, slots=True)
class EleccionSpec:
    clave: str
    nombre: str
    ambito: str
    tipo_acta: str
    tipo_acta_especial: str
    contendientes: tuple[ContendienteSpec, ...]
    """In ballot order: the order of the published columns."""
    candidaturas: tuple[CandidaturaSpec, ...]
    actas: tuple[ActaEsperadaSpec, ...]
    """In catalog order: the order of ``casillas.csv``."""


@dataclass(frozen=True, slots=True)
class PaqueteElectoral:
    """A validated election package: what the catalog must hold."""

    directorio: Path
    proceso: ProcesoSpec
    casillas: tuple[CasillaSpec, ...]
    elecciones: tuple[EleccionSpec, ...]
    catds: tuple[CatdSpec, ...] = ()
    operadores: tuple[OperadorSpec, ...] = ()
    referencias_catd: tuple[ReferenciaCatd, ...] = ()
    """CATDs the package uses without defining them, checked against the database."""


def zona_horaria(nombre: str) -> tzinfo:
    """An institute's time zone: an IANA name (America/Cancun) or a fixed ``UTC-5``."""
    fixed = core.parse_utc_offset(nombre)
    if fixed is not None:
        return fixed
    try:
        return ZoneInfo(nombre)
    except (ZoneInfoNotFoundError, ValueError):
        raise CatalogError(
            f"zona horaria desconocida {nombre!r}.",
            hint="Use un nombre IANA como America/Mexico_City o un desfase fijo como UTC-6.",
        ) from None
