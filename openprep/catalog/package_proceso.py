"""``proceso.toml``: the institute, the entidad, the publication schedule and the rules."""

from __future__ import annotations

import re
import tomllib
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from openprep.catalog.errors import CatalogError
from openprep.catalog.package_files import Problemas, decodificar, falta_archivo
from openprep.catalog.package_spec import ARCHIVO_PROCESO, MAX_DURACION, ProcesoSpec, zona_horaria
from openprep.core.rules import LABEL_TABLES, Representantes

_TOML_TABLA = re.compile(r"\s*\[\s*([A-Za-z0-9_]+)\s*\]")
_TOML_CLAVE = re.compile(r"\s*([A-Za-z0-9_]+)\s*=")


_ESQUEMA_TOML: dict[str, tuple[str, ...]] = {
    "instituto": ("nombre",),
    "entidad": ("id", "nombre"),
    "publicacion": ("zona_horaria", "inicio", "intervalo_minutos", "fin"),
    "reglas": ("representantes", "boletas_especial", "etiquetas"),
}


class _Toml:
    """proceso.toml's values, with the line where each key is written for error messages."""

    def __init__(self, texto: str, datos: dict[str, Any], problemas: Problemas) -> None:
        self.datos = datos
        self.problemas = problemas
        self.lineas: dict[tuple[str, str], int] = {}
        self.tablas: dict[str, int] = {}
        tabla = ""
        for numero, linea in enumerate(texto.splitlines(), start=1):
            if m := _TOML_TABLA.match(linea):
                tabla = m.group(1)
                self.tablas.setdefault(tabla, numero)
            elif m := _TOML_CLAVE.match(linea):
                self.lineas.setdefault((tabla, m.group(1)), numero)

    def error(self, tabla: str, clave: str, mensaje: str, que: str) -> None:
        linea = self.lineas.get((tabla, clave)) or self.tablas.get(tabla)
        columna = f"{tabla}.{clave}" if clave else f"[{tabla}]"
        self.problemas.add(ARCHIVO_PROCESO, linea, columna, mensaje, que)

    def valor(self, tabla: str, clave: str) -> Any:
        seccion = self.datos.get(tabla)
        if not isinstance(seccion, dict):
            return None
        if clave not in seccion:
            self.error(
                tabla,
                clave,
                "falta este valor.",
                f"Agregue «{clave} = …» en la sección [{tabla}] (vea docs/paquete-electoral.md).",
            )
            return None
        return seccion[clave]

    def texto(self, tabla: str, clave: str, *, max_len: int) -> str | None:
        valor = self.valor(tabla, clave)
        if valor is None:
            return None
        if not isinstance(valor, str) or not valor.strip():
            self.error(
                tabla, clave, "debe ser un texto no vacío.", 'Escríbalo entre comillas: "…".'
            )
            return None
        if len(valor.strip()) > max_len:
            self.error(
                tabla, clave, f"tiene más de {max_len} caracteres.", "Use un texto más corto."
            )
            return None
        return valor.strip()

    def entero(self, tabla: str, clave: str, *, minimo: int, maximo: int) -> int | None:
        valor = self.valor(tabla, clave)
        if valor is None:
            return None
        if type(valor) is not int or not minimo <= valor <= maximo:
            self.error(
                tabla,
                clave,
                f"debe ser un número entero entre {minimo} y {maximo}, no {valor!r}.",
                "Escriba el número sin comillas.",
            )
            return None
        return valor

    def opcion(self, tabla: str, clave: str, opciones: tuple[str, ...]) -> str | None:
        valor = self.valor(tabla, clave)
        if valor is None:
            return None
        if valor not in opciones:
            self.error(
                tabla,
                clave,
                f"valor desconocido {valor!r}.",
                "Use uno de: " + ", ".join(f'"{o}"' for o in opciones) + ".",
            )
            return None
        return str(valor)

    def momento(self, tabla: str, clave: str, tz: tzinfo | None) -> datetime | None:
        valor = self.valor(tabla, clave)
        if valor is None:
            return None
        ejemplo = "Escriba fecha y hora sin comillas, p. ej. 2027-06-06T18:00:00."
        if isinstance(valor, datetime):
            if valor.tzinfo is not None:
                return valor
            return None if tz is None else valor.replace(tzinfo=tz)
        if isinstance(valor, date | time):
            self.error(tabla, clave, "le falta la fecha o la hora.", ejemplo)
        else:
            self.error(tabla, clave, f"no es una fecha y hora: {valor!r}.", ejemplo)
        return None


def leer_proceso(directorio: Path, problemas: Problemas) -> ProcesoSpec | None:
    path = directorio / ARCHIVO_PROCESO
    if not path.is_file():
        falta_archivo(ARCHIVO_PROCESO, problemas)
        return None
    texto = decodificar(path, problemas)
    if texto is None:
        return None
    try:
        datos = tomllib.loads(texto)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"at line (\d+), column (\d+)", str(exc))
        linea, columna = (int(m.group(1)), f"carácter {m.group(2)}") if m else (None, "")
        problemas.add(
            ARCHIVO_PROCESO,
            linea,
            columna,
            f"el archivo no es TOML válido ({exc}).",
            "Revise comillas, signos «=» y corchetes de las secciones.",
        )
        return None
    toml = _Toml(texto, datos, problemas)
    for tabla, valor in datos.items():
        if tabla not in _ESQUEMA_TOML:
            toml.error(
                tabla,
                "",
                "sección desconocida.",
                "Las secciones son [instituto], [entidad], [publicacion] y [reglas].",
            )
        elif not isinstance(valor, dict):
            toml.error(tabla, "", "debe ser una sección.", f"Escriba [{tabla}] en su propia línea.")
        else:
            for clave in valor:
                if clave not in _ESQUEMA_TOML[tabla]:
                    toml.error(
                        tabla,
                        clave,
                        "clave desconocida.",
                        f"Las claves de [{tabla}] son: {', '.join(_ESQUEMA_TOML[tabla])}.",
                    )
    for tabla in _ESQUEMA_TOML:
        if tabla not in datos:
            problemas.add(
                ARCHIVO_PROCESO,
                None,
                f"[{tabla}]",
                "falta la sección.",
                f"Agregue la sección [{tabla}] (vea docs/paquete-electoral.md).",
            )

    instituto = toml.texto("instituto", "nombre", max_len=200)
    id_entidad = toml.entero("entidad", "id", minimo=1, maximo=32)
    entidad = toml.texto("entidad", "nombre", max_len=60)
    zona = toml.texto("publicacion", "zona_horaria", max_len=40)
    tz = None
    if zona is not None:
        try:
            tz = zona_horaria(zona)
        except CatalogError as exc:
            toml.error("publicacion", "zona_horaria", exc.message, exc.hint)
            zona = None
    inicio = toml.momento("publicacion", "inicio", tz)
    fin = toml.momento("publicacion", "fin", tz)
    intervalo = toml.entero("publicacion", "intervalo_minutos", minimo=1, maximo=24 * 60)
    if inicio is not None and fin is not None:
        if fin <= inicio:
            toml.error(
                "publicacion",
                "fin",
                "el fin de la publicación no es posterior a su inicio.",
                "Corrija inicio o fin.",
            )
        elif fin - inicio > MAX_DURACION:
            toml.error(
                "publicacion",
                "fin",
                "la publicación dura más de 24 horas.",
                "El PREP publica como máximo 24 horas desde su inicio; adelante el fin.",
            )
        elif intervalo is not None and timedelta(minutes=intervalo) > fin - inicio:
            toml.error(
                "publicacion",
                "intervalo_minutos",
                "el intervalo entre cortes es mayor que la publicación completa.",
                "Use un intervalo menor, p. ej. 15.",
            )
    representantes = toml.opcion("reglas", "representantes", tuple(r.value for r in Representantes))
    boletas = toml.entero("reglas", "boletas_especial", minimo=0, maximo=100000)
    etiquetas = toml.opcion("reglas", "etiquetas", tuple(sorted(LABEL_TABLES)))
    valores = (instituto, id_entidad, entidad, zona, inicio, intervalo, fin)
    if any(v is None for v in (*valores, representantes, boletas, etiquetas)):
        return None
    assert instituto and id_entidad and entidad and zona and inicio and fin and intervalo
    assert representantes and boletas is not None and etiquetas
    return ProcesoSpec(
        instituto=instituto,
        id_entidad=id_entidad,
        entidad=entidad,
        zona_horaria=zona,
        inicio_publicacion=inicio,
        intervalo_minutos=intervalo,
        fin_publicacion=fin,
        representantes=representantes,
        boletas_especial=boletas,
        etiquetas=etiquetas,
    )
