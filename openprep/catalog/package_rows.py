"""``elecciones.csv`` and ``casillas.csv``: the elections and the casillas with lista nominal."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openprep.accounts.services import CuentaError, normalizar_clave_catd
from openprep.catalog.package_files import Fila, Problemas, leer_csv, reportado
from openprep.catalog.package_spec import (
    AMBITOS,
    ARCHIVO_CASILLAS,
    ARCHIVO_ELECCIONES,
    CLAVE_ELECCION,
    COLUMNAS_CASILLAS,
    COLUMNAS_ELECCIONES,
    MAX_SMALL,
    OPCIONALES_CASILLAS,
    CasillaSpec,
    ProcesoSpec,
)
from openprep.core import model as core
from openprep.core.rules import Representantes

# --- elecciones.csv ---------------------------------------------------------------------


@dataclass
class EleccionLeida:
    linea: int
    clave: str
    nombre: str | None
    ambito: str | None
    tipo_acta: str | None
    tipo_acta_especial: str | None


@dataclass
class Elecciones:
    filas: list[EleccionLeida] = field(default_factory=list)
    """Only rows without problems."""
    claves: dict[str, EleccionLeida] = field(default_factory=dict)
    """Every row with a readable key, even if another of its cells is bad."""

    @property
    def hay_municipales(self) -> bool:
        return any(e.ambito == "municipio" for e in self.claves.values())


def leer_elecciones(directorio: Path, problemas: Problemas) -> Elecciones | None:
    leido = leer_csv(directorio, ARCHIVO_ELECCIONES, problemas, requeridas=COLUMNAS_ELECCIONES)
    if leido is None:
        return None
    columnas, filas = leido
    elecciones = Elecciones()
    nombres: dict[str, int] = {}
    tipos_acta: dict[str, tuple[int, str]] = {}
    for fila in filas:
        antes = len(problemas.items)
        clave = fila.texto("ELECCION", max_len=20)
        if clave is not None and not CLAVE_ELECCION.fullmatch(clave):
            fila.error(
                "ELECCION",
                f"clave no válida {clave!r}.",
                "Use de 1 a 20 mayúsculas, dígitos o «_», p. ej. DIP o AYUN.",
            )
            clave = None
        if clave is not None and clave in elecciones.claves:
            fila.error(
                "ELECCION",
                f"la elección {clave} ya está en la línea {elecciones.claves[clave].linea}.",
                "Cada elección va en una sola fila.",
            )
            clave = None
        nombre = fila.texto("NOMBRE", max_len=120)
        if nombre is not None:
            if nombre in nombres:
                fila.error(
                    "NOMBRE",
                    f"el nombre {nombre!r} ya es de la elección de la línea {nombres[nombre]}.",
                    "Cada elección tiene su propio nombre.",
                )
            nombres.setdefault(nombre, fila.linea)
        ambito = fila.texto("AMBITO", max_len=20)
        if ambito is not None:
            ambito = ambito.lower()
            if ambito not in AMBITOS:
                fila.error(
                    "AMBITO",
                    f"ámbito desconocido {ambito!r}.",
                    "Use entidad, distrito o municipio.",
                )
                ambito = None
        tipos = []
        for columna in ("TIPO_ACTA", "TIPO_ACTA_ESPECIAL"):
            numero = fila.entero(
                columna, minimo=1, maximo=99, vacio=columna == "TIPO_ACTA_ESPECIAL"
            )
            tipo = str(numero) if numero is not None else None
            if tipo is not None:
                if tipo in tipos_acta:
                    linea, otra = tipos_acta[tipo]
                    fila.error(
                        columna,
                        f"el TIPO_ACTA {tipo} ya es de {otra} en la línea {linea}: la CLAVE_ACTA "
                        "no distinguiría las elecciones.",
                        "Use un TIPO_ACTA distinto para cada elección y tipo de casilla.",
                    )
                tipos_acta.setdefault(tipo, (fila.linea, columna))
            tipos.append(tipo)
        especial_vacia = fila.celdas.get("TIPO_ACTA_ESPECIAL") == ""
        eleccion = EleccionLeida(
            linea=fila.linea,
            clave=clave or "",
            nombre=nombre,
            ambito=ambito,
            tipo_acta=tipos[0],
            tipo_acta_especial="" if especial_vacia else tipos[1],
        )
        if clave is not None:
            elecciones.claves[clave] = eleccion
        if len(problemas.items) == antes and "TIPO_ACTA_ESPECIAL" in columnas:
            elecciones.filas.append(eleccion)
    if not elecciones.claves and not reportado(ARCHIVO_ELECCIONES, problemas):
        problemas.add(
            ARCHIVO_ELECCIONES,
            None,
            "",
            "no hay ninguna elección.",
            "Escriba una fila por elección debajo del encabezado.",
        )
    return elecciones


# --- casillas.csv -----------------------------------------------------------------------


@dataclass
class Casillas:
    specs: list[CasillaSpec] = field(default_factory=list)
    """Only rows without problems, in file order."""
    distritos: set[int] = field(default_factory=set)
    municipios: set[int] = field(default_factory=set)
    """Every territory named by some row, even one with a bad cell."""
    catds: list[tuple[str, int]] = field(default_factory=list)
    """Every valid CATD clave named in the CATD column, with its line."""


def leer_casillas(
    directorio: Path,
    problemas: Problemas,
    *,
    proceso: ProcesoSpec | None,
    elecciones: Elecciones | None,
) -> Casillas | None:
    leido = leer_csv(
        directorio,
        ARCHIVO_CASILLAS,
        problemas,
        requeridas=COLUMNAS_CASILLAS,
        opcionales=OPCIONALES_CASILLAS,
    )
    if leido is None:
        return None
    columnas, filas = leido
    if (
        proceso is not None
        and proceso.representantes == Representantes.COLUMNA
        and "REPRESENTANTES_PP_CI" not in columnas
    ):
        problemas.add(
            ARCHIVO_CASILLAS,
            None,
            "REPRESENTANTES_PP_CI",
            'falta la columna: proceso.toml usa representantes = "columna".',
            "Agregue el número de representantes acreditados por casilla, o use "
            'representantes = "contendientes".',
        )
    municipales = elecciones is not None and elecciones.hay_municipales
    casillas = Casillas()
    nombres_distrito: dict[int, tuple[str, int]] = {}
    nombres_municipio: dict[int, tuple[str, int]] = {}
    identidades: dict[tuple[int, int, str, int, int], int] = {}
    for fila in filas:
        antes = len(problemas.items)
        id_entidad = fila.entero("ID_ESTADO", minimo=1, maximo=32)
        entidad = fila.texto("ESTADO", max_len=60)
        if proceso is not None:
            if id_entidad is not None and id_entidad != proceso.id_entidad:
                fila.error(
                    "ID_ESTADO",
                    f"la casilla es de la entidad {id_entidad}, pero el proceso es de la "
                    f"entidad {proceso.id_entidad}.",
                    "Quite las casillas de otras entidades o corrija [entidad] id en proceso.toml.",
                )
            if entidad is not None and entidad != proceso.entidad:
                fila.error(
                    "ESTADO",
                    f"{entidad!r} no es el nombre de la entidad en proceso.toml "
                    f"({proceso.entidad!r}).",
                    "Escriba el nombre exactamente igual en ambos archivos.",
                )
        id_distrito = fila.entero("ID_DISTRITO", minimo=1, maximo=MAX_SMALL)
        distrito = fila.texto("DISTRITO", max_len=120)
        if id_distrito is not None:
            casillas.distritos.add(id_distrito)
            _mismo_nombre(fila, "DISTRITO", "el distrito", id_distrito, distrito, nombres_distrito)
        id_municipio = fila.entero("ID_MUNICIPIO", minimo=1, maximo=MAX_SMALL, vacio=True)
        municipio = fila.texto("MUNICIPIO", max_len=120, requerido=id_municipio is not None)
        if id_municipio is not None:
            casillas.municipios.add(id_municipio)
            _mismo_nombre(
                fila, "MUNICIPIO", "el municipio", id_municipio, municipio, nombres_municipio
            )
        elif municipales and fila.celdas.get("ID_MUNICIPIO") == "":
            fila.error(
                "ID_MUNICIPIO",
                "la celda está vacía y hay elecciones de ámbito municipio.",
                "Escriba el municipio de cada casilla.",
            )
        seccion = fila.entero("SECCION", minimo=1, maximo=9999)
        tipo = fila.texto("TIPO_CASILLA", max_len=20)
        if tipo is not None and tipo not in set(core.TipoCasilla):
            fila.error(
                "TIPO_CASILLA",
                f"tipo de casilla desconocido {tipo!r}.",
                "Use B (básica), C (contigua), E (extraordinaria), S (especial), "
                "V (prisión preventiva) o M (mesa de escrutinio).",
            )
            tipo = None
        id_casilla = fila.entero("ID_CASILLA", minimo=1, maximo=99)
        ext_contigua = fila.entero("EXT_CONTIGUA", minimo=0, maximo=99)
        ubicacion = fila.entero("UBICACION_CASILLA", minimo=1, maximo=2)
        lista_nominal = fila.entero("LISTA_NOMINAL")
        if tipo == core.TipoCasilla.ESPECIAL and lista_nominal:
            fila.error(
                "LISTA_NOMINAL",
                f"una casilla especial no tiene lista nominal, pero dice {lista_nominal}.",
                "Escriba 0: sus votantes están fuera de su sección.",
            )
        representantes = fila.entero("REPRESENTANTES_PP_CI", vacio=True) or 0
        catd = clave_catd(fila, "CATD", requerido=False)
        if catd:
            casillas.catds.append((catd, fila.linea))
        identidad = (id_entidad, seccion, tipo, id_casilla, ext_contigua)
        if None not in identidad:
            clave = tuple(identidad)
            if clave in identidades:
                fila.error(
                    "",
                    f"la casilla {_clave_casilla(clave)} ya está en la línea {identidades[clave]}.",
                    "Cada casilla va en una sola fila: quite la repetida o corrija su "
                    "SECCION, TIPO_CASILLA, ID_CASILLA o EXT_CONTIGUA.",
                )
            identidades.setdefault(clave, fila.linea)
        necesarios = (*identidad, entidad, id_distrito, distrito, ubicacion, lista_nominal)
        if len(problemas.items) > antes or None in necesarios:
            continue  # a missing column was reported once, at the header
        casillas.specs.append(
            CasillaSpec(
                casilla=core.Casilla(
                    id_entidad=id_entidad,
                    entidad=entidad,
                    id_distrito=id_distrito,
                    distrito=distrito,
                    seccion=seccion,
                    tipo=tipo,
                    id_casilla=id_casilla,
                    ext_contigua=ext_contigua,
                    ubicacion=ubicacion,
                    id_municipio=id_municipio,
                    municipio=municipio or "",
                ),
                lista_nominal=lista_nominal,
                representantes_pp_ci=representantes,
                catd=catd or "",
            )
        )
    if not identidades and not reportado(ARCHIVO_CASILLAS, problemas):
        problemas.add(
            ARCHIVO_CASILLAS,
            None,
            "",
            "no hay ninguna casilla.",
            "Escriba una fila por casilla debajo del encabezado.",
        )
    return casillas


def clave_catd(fila: Fila, columna: str, *, requerido: bool) -> str | None:
    """A CATD clave as the accounts app writes it (CATD-01); ``None`` if empty or bad."""
    texto = fila.celdas.get(columna, "")
    if not texto:
        if requerido:
            fila.error(columna, "la celda está vacía.", "Escriba la clave de la CATD.")
        return None
    try:
        return normalizar_clave_catd(texto)
    except CuentaError as exc:
        fila.error(columna, exc.message, exc.hint)
        return None


def _mismo_nombre(
    fila: Fila,
    columna: str,
    que: str,
    ident: int,
    nombre: str | None,
    vistos: dict[int, tuple[str, int]],
) -> None:
    """A distrito or municipio has one name in the whole file."""
    if nombre is None:
        return
    previo = vistos.setdefault(ident, (nombre, fila.linea))
    if previo[0] != nombre:
        fila.error(
            columna,
            f"{que} {ident} se llama {nombre!r} aquí pero {previo[0]!r} en la línea {previo[1]}.",
            "Use el mismo nombre en todas sus casillas.",
        )


def _clave_casilla(identidad: tuple[Any, ...]) -> str:
    entidad, seccion, tipo, id_casilla, ext = identidad
    return f"{entidad:02d}{seccion:04d}{tipo}{id_casilla:02d}{ext:02d}"
