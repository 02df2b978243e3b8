"""``contendientes.csv``: who is on which ballot, in ballot order, with their candidates."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openprep.catalog.package_files import Fila, Problemas, leer_csv
from openprep.catalog.package_rows import Casillas, Elecciones, EleccionLeida
from openprep.catalog.package_spec import (
    ARCHIVO_CONTENDIENTES,
    CLAVE_CONTENDIENTE,
    COLUMNAS_CONTENDIENTES,
    COLUMNAS_RESERVADAS,
    ENTERO,
    MAX_SMALL,
    OPCIONALES_CONTENDIENTES,
    TODOS,
)
from openprep.core import model as core


@dataclass(frozen=True, slots=True)
class Registro:
    linea: int
    contendiente: str
    territorio: int | None
    orden: int
    propietario: str
    suplente: str


def leer_contendientes(
    directorio: Path,
    problemas: Problemas,
    *,
    elecciones: Elecciones | None,
    casillas: Casillas | None,
) -> dict[str, list[Registro]] | None:
    leido = leer_csv(
        directorio,
        ARCHIVO_CONTENDIENTES,
        problemas,
        requeridas=COLUMNAS_CONTENDIENTES,
        opcionales=OPCIONALES_CONTENDIENTES,
    )
    if leido is None:
        return None
    _, filas = leido
    registros: dict[str, list[Registro]] = defaultdict(list)
    # Per election: each contender's column position (and its line), the contender
    # holding each position, and the line of each of a contender's territories.
    posiciones: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    ocupadas: dict[str, dict[int, tuple[str, int]]] = defaultdict(dict)
    lugares: dict[str, dict[str, dict[int | None, int]]] = defaultdict(dict)
    for fila in filas:
        antes = len(problemas.items)
        clave_eleccion = fila.texto("ELECCION", max_len=20)
        eleccion = None
        if clave_eleccion is not None and elecciones is not None:
            eleccion = elecciones.claves.get(clave_eleccion)
            if eleccion is None:
                fila.error(
                    "ELECCION",
                    f"la elección {clave_eleccion!r} no está en elecciones.csv.",
                    "Use una de las claves de elecciones.csv: "
                    + (", ".join(sorted(elecciones.claves)) or "(ninguna)")
                    + ".",
                )
        territorio = _territorio(fila, eleccion, casillas)
        orden = fila.entero("ORDEN", minimo=1, maximo=999)
        contendiente = fila.texto("PARTIDO_CI", max_len=60)
        if contendiente is not None:
            if not CLAVE_CONTENDIENTE.fullmatch(contendiente):
                fila.error(
                    "PARTIDO_CI",
                    f"{contendiente!r} no sirve como nombre de columna.",
                    "Use mayúsculas, dígitos y «_», empezando con letra: PAN, C_PAN_PRD, "
                    "CAND_IND_1.",
                )
                contendiente = None
            elif contendiente in COLUMNAS_RESERVADAS:
                fila.error(
                    "PARTIDO_CI",
                    f"{contendiente} es una columna de la base de datos PREP, no un contendiente.",
                    "Use el nombre del partido, coalición o candidatura independiente.",
                )
                contendiente = None
        propietario = fila.texto("CANDIDATURA_PROPIETARIA", max_len=200, requerido=False)
        suplente = fila.texto("CANDIDATURA_SUPLENTE", max_len=200, requerido=False)
        if eleccion is None or contendiente is None or territorio is _INVALIDO:
            continue  # already reported, or elecciones.csv could not be read
        clave = eleccion.clave
        territorios = lugares[clave].setdefault(contendiente, {})
        if territorio in territorios:
            fila.error(
                "PARTIDO_CI",
                f"{contendiente} ya está registrado en ese territorio de {clave} en la "
                f"línea {territorios[territorio]}.",
                "Quite la fila repetida.",
            )
        elif None in territorios:
            fila.error(
                "ID_TERRITORIO",
                f"{contendiente} ya está en todas las boletas de {clave} "
                f"(línea {territorios[None]}).",
                f"Quite esta fila, o registre el contendiente por territorio y no en {TODOS}.",
            )
        elif territorio is None and territorios:
            fila.error(
                "ID_TERRITORIO",
                f"{contendiente} ya está registrado por territorio en {clave} "
                f"(línea {min(territorios.values())}); no puede estar además en {TODOS}.",
                f"Registre el contendiente en {TODOS} o por territorio, no de las dos formas.",
            )
        territorios.setdefault(territorio, fila.linea)
        if orden is not None:
            previa = posiciones[clave].setdefault(contendiente, (orden, fila.linea))
            if previa[0] != orden:
                fila.error(
                    "ORDEN",
                    f"{contendiente} tiene la posición {previa[0]} en la línea {previa[1]} "
                    f"y {orden} aquí.",
                    "Un contendiente ocupa la misma columna en toda la elección.",
                )
            else:
                ocupante = ocupadas[clave].setdefault(orden, (contendiente, fila.linea))
                if ocupante[0] != contendiente:
                    fila.error(
                        "ORDEN",
                        f"la posición {orden} de la boleta de {clave} ya es de {ocupante[0]} "
                        f"(línea {ocupante[1]}).",
                        "Dé a cada contendiente su propia posición, en el orden de la boleta.",
                    )
        if len(problemas.items) > antes or orden is None:
            continue
        registros[clave].append(
            Registro(
                linea=fila.linea,
                contendiente=contendiente,
                territorio=territorio,
                orden=orden,
                propietario=propietario or "",
                suplente=suplente or "",
            )
        )
    if elecciones is not None:
        _revisar_coaliciones(registros, problemas)
        _revisar_boletas(elecciones, casillas, registros, lugares, problemas)
    return registros


_INVALIDO: Any = object()


def _territorio(
    fila: Fila, eleccion: EleccionLeida | None, casillas: Casillas | None
) -> int | Any | None:
    """The registration's territory: ``None`` for all, an id, or ``_INVALIDO``."""
    texto = fila.texto("ID_TERRITORIO", max_len=20)
    if texto is None:
        return _INVALIDO
    if texto.upper() == TODOS:
        return None
    if not ENTERO.fullmatch(texto) or not 1 <= int(texto) <= MAX_SMALL:
        fila.error(
            "ID_TERRITORIO",
            f"{texto!r} no es {TODOS} ni el número de un distrito o municipio.",
            f"Escriba {TODOS} o el ID_DISTRITO o ID_MUNICIPIO de casillas.csv.",
        )
        return _INVALIDO
    numero = int(texto)
    if eleccion is None or eleccion.ambito is None or casillas is None:
        return numero
    if eleccion.ambito == "entidad":
        fila.error(
            "ID_TERRITORIO",
            f"la elección {eleccion.clave} es de ámbito entidad: sus contendientes están en "
            "todas las boletas.",
            f"Escriba {TODOS}.",
        )
        return _INVALIDO
    conocidos = casillas.distritos if eleccion.ambito == "distrito" else casillas.municipios
    if numero not in conocidos:
        fila.error(
            "ID_TERRITORIO",
            f"ninguna casilla de casillas.csv está en el {eleccion.ambito} {numero}.",
            f"Use un ID_{eleccion.ambito.upper()} de casillas.csv o {TODOS}.",
        )
        return _INVALIDO
    return numero


def _revisar_coaliciones(registros: dict[str, list[Registro]], problemas: Problemas) -> None:
    """A coalition column (``C_PAN_PRD``) names parties of its election, on the same ballots."""
    for clave, filas in registros.items():
        partidos: dict[int | None, set[str]] = defaultdict(set)
        todos_partidos = set()
        for r in filas:
            if core.classify_contender(r.contendiente) is core.TipoContendiente.PARTIDO:
                partidos[r.territorio].add(r.contendiente)
                todos_partidos.add(r.contendiente)
        for r in filas:
            if core.classify_contender(r.contendiente) is not core.TipoContendiente.COALICION:
                continue
            nombre = r.contendiente.removeprefix("C_")
            miembros = [p for p in re.split(r"[_-]", nombre) if p]
            desconocidos = [p for p in miembros if p not in todos_partidos]
            if desconocidos:
                problemas.add(
                    ARCHIVO_CONTENDIENTES,
                    r.linea,
                    "PARTIDO_CI",
                    f"la coalición {r.contendiente} nombra partidos que {clave} no tiene: "
                    f"{', '.join(desconocidos)}.",
                    "Registre esos partidos o corrija el nombre de la columna de coalición.",
                )
                continue
            en_boleta = partidos[None] | partidos[r.territorio]
            fuera = [p for p in miembros if p not in en_boleta]
            if r.territorio is not None and fuera:
                problemas.add(
                    ARCHIVO_CONTENDIENTES,
                    r.linea,
                    "PARTIDO_CI",
                    f"la coalición {r.contendiente} está en el territorio {r.territorio}, pero "
                    f"no sus partidos {', '.join(fuera)}.",
                    "Registre también esos partidos en ese territorio.",
                )


def _revisar_boletas(
    elecciones: Elecciones,
    casillas: Casillas | None,
    registros: dict[str, list[Registro]],
    lugares: dict[str, dict[str, dict[int | None, int]]],
    problemas: Problemas,
) -> None:
    """Every election has contenders, and every territory with casillas has a ballot."""
    for eleccion in elecciones.claves.values():
        if not lugares[eleccion.clave]:
            problemas.add(
                ARCHIVO_CONTENDIENTES,
                None,
                "ELECCION",
                f"la elección {eleccion.clave} no tiene contendientes.",
                "Registre sus partidos, coaliciones y candidaturas en orden de boleta.",
            )
            continue
        if casillas is None or eleccion.ambito not in ("distrito", "municipio"):
            continue
        registrados = {t for ts in lugares[eleccion.clave].values() for t in ts}
        if None in registrados:
            continue
        territorios = casillas.distritos if eleccion.ambito == "distrito" else casillas.municipios
        for faltante in sorted(territorios - registrados):
            problemas.add(
                ARCHIVO_CONTENDIENTES,
                None,
                "ID_TERRITORIO",
                f"el {eleccion.ambito} {faltante} tiene casillas pero ningún contendiente de "
                f"{eleccion.clave}.",
                f"Registre los contendientes de su boleta, o en {TODOS}.",
            )
