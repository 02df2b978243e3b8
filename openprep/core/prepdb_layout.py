"""What a published PREP database's columns and observation cells mean.

Column names of every variant (reference layout, INE 2021, INE 2024) and their
reference-layout names, which columns a variant may lack, and how a published
OBSERVACIONES cell reads back into the rules' codes.
"""

from __future__ import annotations

from collections.abc import Mapping

from openprep.core.model import CONTROL_FIELDS
from openprep.core.rules import Observacion, RuleSettings

IDENTITY_COLUMNS = (
    "CLAVE_CASILLA",
    "CLAVE_ACTA",
    "ID_ESTADO",
    "ESTADO",
    "ID_DISTRITO",
    "DISTRITO",
    "SECCION",
    "ID_CASILLA",
    "TIPO_CASILLA",
    "EXT_CONTIGUA",
    "UBICACION_CASILLA",
    "TIPO_ACTA",
)
TAIL_COLUMNS = (
    "NO_REGISTRADOS",
    "NULOS",
    "TOTAL_VOTOS_ASENTADO",
    "TOTAL_VOTOS_CALCULADO",
    "LISTA_NOMINAL",
    "REPRESENTANTES_PP_CI",
    "OBSERVACIONES",
    "CONTABILIZADA",
    "MECANISMOS_TRASLADO",
    "SHA",
    "FECHA_HORA_ACOPIO",
    "FECHA_HORA_CAPTURA",
    "FECHA_HORA_VERIFICACION",
    "ORIGEN",
    "DIGITALIZACION",
    "TIPO_DOCUMENTO",
)
OPTIONAL_COLUMNS = frozenset(
    {
        *CONTROL_FIELDS,
        "UBICACION_CASILLA",
        "REPRESENTANTES_PP_CI",
        "MECANISMOS_TRASLADO",
        "SHA",
        "FECHA_HORA_ACOPIO",
        "FECHA_HORA_CAPTURA",
        "FECHA_HORA_VERIFICACION",
        "ORIGEN",
        "DIGITALIZACION",
        "TIPO_DOCUMENTO",
        "TOTAL_VOTOS_ASENTADO",
        "ID_DISTRITO",
        "DISTRITO",
        "ESTADO",
    }
)
KNOWN_NON_VOTE_COLUMNS = frozenset(
    {
        *IDENTITY_COLUMNS,
        *CONTROL_FIELDS,
        *TAIL_COLUMNS,
        "ID_MUNICIPIO",
        "MUNICIPIO",
        "COTEJADA",
    }
)

COLUMN_ALIASES: Mapping[str, str] = {
    "ID_ENTIDAD": "ID_ESTADO",
    "ENTIDAD": "ESTADO",
    "ID_DISTRITO_FEDERAL": "ID_DISTRITO",
    "DISTRITO_FEDERAL": "DISTRITO",
    "ID_DISTRITO_LOCAL": "ID_DISTRITO",
    "DISTRITO_LOCAL": "DISTRITO",
    "CODIGO_INTEGRIDAD": "SHA",
    "NO_REGISTRADAS": "NO_REGISTRADOS",
    "TOTAL_VOTOS_CALCULADOS": "TOTAL_VOTOS_CALCULADO",
    "TOTAL_VOTOS_ASENTADOS": "TOTAL_VOTOS_ASENTADO",
    "MECANISMO_TRASLADO": "MECANISMOS_TRASLADO",
}
"""Column names of INE's 2021 and 2024 databases and their reference-layout names."""

SUMMARY_ALIASES: Mapping[str, str] = {
    "ACTAS_FUERA_DE_CATALOGO": "ACTAS_FUERA_CATALOGO",
    "PORCENTAJE_ACTAS_CON_INCONSISTENCIAS": "PORCENTAJE_ACTAS_INCONSISTENCIAS",
}

READ_ALIASES: Mapping[str, Observacion] = {
    "ILEGIBLE": Observacion.ALGUN_DATO_ILEGIBLE_O_SIN_DATO,
    "SIN DATO": Observacion.ALGUN_DATO_ILEGIBLE_O_SIN_DATO,
    "TODOS ILEGIBLES": Observacion.TODOS_ILEGIBLES_O_SIN_DATO,
    "TODOS SIN DATO": Observacion.TODOS_ILEGIBLES_O_SIN_DATO,
}
"""Single-word labels INE's federal files join with commas."""

_PRIORITY = (
    Observacion.SIN_ACTA_PAQUETE_NO_ENTREGADO,
    Observacion.SIN_ACTA_CASILLA_NO_INSTALADA,
    Observacion.SIN_ACTA_PAQUETE_SIN_SOBRE,
    Observacion.SIN_ACTA_CONTINGENCIA,
    Observacion.TODOS_ILEGIBLES_O_SIN_DATO,
    Observacion.EXCEDE_LISTA_NOMINAL,
    Observacion.ALGUN_DATO_ILEGIBLE_O_SIN_DATO,
)

MAX_DIGITS = 18
"""No count on an acta has more digits (and Python refuses int() past 4,300)."""

DEFAULT_ZERO_COLUMNS = frozenset(
    {"ID_DISTRITO", "UBICACION_CASILLA", "REPRESENTANTES_PP_CI", "ID_MUNICIPIO"}
)
INT_COLUMNS = (
    "ID_ESTADO",
    "ID_DISTRITO",
    "SECCION",
    "ID_CASILLA",
    "EXT_CONTIGUA",
    "UBICACION_CASILLA",
    "LISTA_NOMINAL",
    "REPRESENTANTES_PP_CI",
    "ID_MUNICIPIO",
)


def decisive_observation(label: str, *, settings: RuleSettings) -> Observacion | None:
    """The observation that decides an acta, read from a published OBSERVACIONES cell.

    INE joins several labels with commas; the first in rule order decides. Raises
    KeyError for a label no table knows.
    """
    if not label:
        return None
    codes: set[Observacion] = set()
    whole = _lookup_label(label, settings=settings)
    if whole is not None:
        codes.add(whole)
    else:
        for part in label.split(","):
            code = _lookup_label(part.strip(), settings=settings)
            if code is None:
                raise KeyError(part.strip())
            codes.add(code)
    return next(code for code in _PRIORITY if code in codes)


def _lookup_label(label: str, *, settings: RuleSettings) -> Observacion | None:
    try:
        return settings.observacion_de_label(label)
    except KeyError:
        return READ_ALIASES.get(label.upper())
