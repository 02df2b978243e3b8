"""Compare the PREP database a server publishes with the night's ground truth.

Both are read as text in the reference layout (``sep=|``, election name, corte, summary
names and values, a blank line, columns, one row per acta) and compared cell by cell:
what the night decides (every captured value, TOTAL_VOTOS_CALCULADO, OBSERVACIONES,
CONTABILIZADA, SHA, MECANISMOS_TRASLADO, ORIGEN, DIGITALIZACION, TIPO_DOCUMENTO) and
the summary. Times differ by nature (the drill runs now, the truth was written for
election night) and catalog facts come from the same package, so neither is compared.
"""

from __future__ import annotations

from dataclasses import dataclass

from openprep.core.errors import UserError
from openprep.core.tally import truncated_percentage

SIN_COMPARAR = frozenset(
    {
        "CLAVE_CASILLA",
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
        "LISTA_NOMINAL",
        "REPRESENTANTES_PP_CI",
        "FECHA_HORA_ACOPIO",
        "FECHA_HORA_CAPTURA",
        "FECHA_HORA_VERIFICACION",
    }
)
"""Columns that are catalog facts (the same package on both sides) or times."""

PARTICIPACION = "PORCENTAJE_PARTICIPACION_CIUDADANA"
FIELD_TAIL = ("NO_REGISTRADOS", "NULOS", "TOTAL_VOTOS_ASENTADO")
FIRST_FIELD = "TOTAL_BOLETAS_SOBRANTES"


class BaseIlegible(UserError):
    """A database that is not in the reference layout."""


@dataclass(frozen=True, slots=True)
class BasePrep:
    """One election's PREP database as text cells."""

    nombre: str
    resumen: dict[str, str]
    columnas: tuple[str, ...]
    filas: dict[str, dict[str, str]]
    """Rows by CLAVE_ACTA, in file order."""

    @property
    def campos(self) -> tuple[str, ...]:
        """The fields an operator captures: control figures, contenders, tail."""
        start = self.columnas.index(FIRST_FIELD)
        end = self.columnas.index(FIELD_TAIL[-1]) + 1
        return self.columnas[start:end]


@dataclass(frozen=True, slots=True)
class Diferencia:
    eleccion: str
    clave_acta: str
    """Empty for the summary or the layout."""
    campo: str
    esperado: str
    obtenido: str


def leer_base(texto: str, *, origen: str) -> BasePrep:
    """Read a database in the reference layout; ``origen`` names it in errors."""
    lineas = texto.replace("\r\n", "\n").split("\n")
    if len(lineas) < 7 or not lineas[0].startswith("sep="):
        raise BaseIlegible(
            "no es una base de datos PREP en el formato de referencia.",
            where=origen,
            hint="La primera línea debe ser «sep=|» y la séptima los nombres de las columnas.",
        )
    sep = lineas[0][4:] or "|"
    nombres, valores = lineas[3].split(sep), lineas[4].split(sep)
    columnas = tuple(lineas[6].split(sep))
    faltan = {"CLAVE_ACTA", FIRST_FIELD, *FIELD_TAIL} - set(columnas)
    if len(nombres) != len(valores) or faltan:
        raise BaseIlegible(
            "el resumen o las columnas no tienen la forma esperada"
            + (f" (faltan {', '.join(sorted(faltan))})." if faltan else "."),
            where=origen,
            hint="Genere la base con openprep (formato de referencia).",
        )
    filas: dict[str, dict[str, str]] = {}
    for numero, linea in enumerate(lineas[7:], start=8):
        if not linea:
            continue
        celdas = linea.split(sep)
        if len(celdas) != len(columnas):
            raise BaseIlegible(
                f"tiene {len(celdas)} celdas y el encabezado {len(columnas)} columnas.",
                where=f"{origen}, línea {numero}",
                hint="Revise que el archivo esté completo.",
            )
        fila = dict(zip(columnas, celdas, strict=True))
        filas[fila["CLAVE_ACTA"]] = fila
    return BasePrep(
        nombre=lineas[1],
        resumen=dict(zip(nombres, valores, strict=True)),
        columnas=columnas,
        filas=filas,
    )


def resumen_esperado(verdad: BasePrep, *, final: bool) -> dict[str, str]:
    """The truth's summary as a corte publishes it: the truth is the final corte; a corte
    before the end of the publication computes participation without the casillas
    especiales (DOMAIN.md §5), from the same figures."""
    resumen = dict(verdad.resumen)
    if not final:
        resumen[PARTICIPACION] = truncated_percentage(
            int(resumen["TOTAL_VOTOS_S_CS"]), int(resumen["LISTA_NOMINAL_ACTAS_CONTABILIZADAS"])
        )
    return resumen


def comparar(
    eleccion: str, *, verdad: BasePrep, servidor: BasePrep, final: bool = True
) -> list[Diferencia]:
    """Every difference between the truth and what the server published; ``final`` says
    whether the server's database is the final corte (see :func:`resumen_esperado`)."""
    diferencias: list[Diferencia] = []

    def difiere(clave: str, campo: str, esperado: str, obtenido: str) -> None:
        diferencias.append(Diferencia(eleccion, clave, campo, esperado, obtenido))

    if verdad.nombre != servidor.nombre:
        difiere("", "NOMBRE", verdad.nombre, servidor.nombre)
    if verdad.columnas != servidor.columnas:
        difiere("", "COLUMNAS", "|".join(verdad.columnas), "|".join(servidor.columnas))
        return diferencias
    for campo, esperado in resumen_esperado(verdad, final=final).items():
        obtenido = servidor.resumen.get(campo, "(falta)")
        if obtenido != esperado:
            difiere("", campo, esperado, obtenido)
    comparadas = [c for c in verdad.columnas if c not in SIN_COMPARAR]
    for clave, fila in verdad.filas.items():
        publicada = servidor.filas.get(clave)
        if publicada is None:
            difiere(clave, "ACTA", "publicada", "no está en la base del servidor")
            continue
        for campo in comparadas:
            if fila[campo] != publicada[campo]:
                difiere(clave, campo, fila[campo], publicada[campo])
    for clave in servidor.filas.keys() - verdad.filas.keys():
        difiere(clave, "ACTA", "no está en la verdad", "publicada")
    en_ambas = [c for c in verdad.filas if c in servidor.filas]
    publicadas = [c for c in servidor.filas if c in verdad.filas]
    primera = next(
        (i for i, (a, b) in enumerate(zip(en_ambas, publicadas, strict=False)) if a != b), None
    )
    if primera is not None:
        difiere(en_ambas[primera], "ORDEN", f"posición {primera + 1}", publicadas[primera])
    return diferencias
