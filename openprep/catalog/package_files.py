"""Reading the package's files: problems collected, CSV files, cells parsed one by one."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from openprep.catalog.errors import Problema
from openprep.catalog.package_spec import ENTERO, MAX_INT, NEGATIVO


class Problemas:
    """Every problem found so far, in the order the files are read."""

    def __init__(self) -> None:
        self.items: list[Problema] = []

    def add(self, archivo: str, linea: int | None, columna: str, mensaje: str, que: str) -> None:
        self.items.append(Problema(archivo, linea, columna, mensaje, que))


def falta_archivo(archivo: str, problemas: Problemas) -> None:
    problemas.add(
        archivo,
        None,
        "",
        "falta el archivo.",
        f"Agregue {archivo} a la carpeta del paquete (vea docs/paquete-electoral.md).",
    )


def decodificar(path: Path, problemas: Problemas) -> str | None:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problemas.add(
            path.name,
            raw.count(b"\n", 0, exc.start) + 1,
            "",
            "el archivo no está codificado en UTF-8.",
            "Guárdelo como «CSV UTF-8» (en una hoja de cálculo) o conviértalo, p. ej. con "
            "iconv -f LATIN1 -t UTF-8.",
        )
        return None


@dataclass
class Fila:
    """One data row: its physical line and cells, with typed getters that report problems."""

    archivo: str
    linea: int
    celdas: dict[str, str]
    problemas: Problemas

    def error(self, columna: str, mensaje: str, que: str) -> None:
        self.problemas.add(self.archivo, self.linea, columna, mensaje, que)

    def texto(self, columna: str, *, max_len: int, requerido: bool = True) -> str | None:
        """The cell's text, stripped; ``None`` if its column is missing (already reported)."""
        if columna not in self.celdas:
            return None
        valor = self.celdas[columna]
        if requerido and not valor:
            self.error(columna, "la celda está vacía.", "Escriba el valor.")
            return None
        if len(valor) > max_len:
            self.error(
                columna, f"tiene más de {max_len} caracteres.", "Abrevie el texto o revíselo."
            )
            return None
        return valor

    def entero(
        self, columna: str, *, minimo: int = 0, maximo: int = MAX_INT, vacio: bool = False
    ) -> int | None:
        """The cell as an integer in [minimo, maximo]; ``None`` when missing or invalid.

        An empty cell is ``None`` without a problem when ``vacio`` allows it.
        """
        if columna not in self.celdas:
            return None
        valor = self.celdas[columna]
        if not valor:
            if not vacio:
                self.error(columna, "la celda está vacía.", "Escriba un número entero.")
            return None
        if NEGATIVO.fullmatch(valor):
            self.error(
                columna,
                f"no puede ser negativo ({valor}).",
                f"Escriba un número entero de {minimo} o más.",
            )
            return None
        if not ENTERO.fullmatch(valor):
            self.error(
                columna,
                f"{valor!r} no es un número entero.",
                "Escriba solo dígitos, sin decimales, espacios ni separadores de miles.",
            )
            return None
        numero = int(valor)
        if not minimo <= numero <= maximo:
            self.error(
                columna,
                f"{numero} está fuera del intervalo permitido ({minimo} a {maximo}).",
                "Revise el valor.",
            )
            return None
        return numero


def leer_csv(
    directorio: Path,
    archivo: str,
    problemas: Problemas,
    *,
    requeridas: tuple[str, ...],
    opcionales: tuple[str, ...] = (),
) -> tuple[frozenset[str], Iterator[Fila]] | None:
    """The file's columns and its data rows; ``None`` if the file cannot be read at all.

    Accepts UTF-8 with or without BOM, a first line ``sep=|`` or ``sep=,``, or else
    guesses comma or pipe from the header. Column names are compared without surrounding
    spaces and in capitals; columns other than ``requeridas`` and ``opcionales`` are ignored.
    """
    path = directorio / archivo
    if not path.is_file():
        falta_archivo(archivo, problemas)
        return None
    texto = decodificar(path, problemas)
    if texto is None:
        return None
    stream = io.StringIO(texto, newline="")
    primera = stream.readline()
    desplazamiento = 0
    if primera.strip().lower().startswith("sep="):
        delimitador = primera.strip()[4:]
        desplazamiento = 1
        if delimitador not in (",", "|"):
            problemas.add(
                archivo,
                1,
                "",
                f"separador no admitido {delimitador!r}.",
                "Use «sep=,» o «sep=|», o quite esa línea.",
            )
            return None
        inicio = stream.tell()
        primera = stream.readline()
        stream.seek(inicio)
    else:
        stream.seek(0)
        try:
            delimitador = csv.Sniffer().sniff(primera, delimiters=",|").delimiter
        except csv.Error:
            delimitador = ","
    if not primera.strip():
        problemas.add(
            archivo,
            1 + desplazamiento,
            "",
            "falta la línea de encabezado con los nombres de las columnas.",
            "La primera línea debe nombrar las columnas: " + ", ".join(requeridas) + ".",
        )
        return None
    reader = csv.DictReader(stream, delimiter=delimitador)
    nombres = [(n or "").strip().upper() for n in reader.fieldnames or ()]
    reader.fieldnames = nombres
    linea_encabezado = 1 + desplazamiento
    columnas_ok = True
    vistos: set[str] = set()
    for nombre in nombres:
        if nombre in vistos and nombre in (*requeridas, *opcionales):
            problemas.add(
                archivo,
                linea_encabezado,
                nombre,
                "la columna aparece dos veces en el encabezado.",
                "Deje una sola columna con ese nombre.",
            )
            columnas_ok = False
        vistos.add(nombre)
    for nombre in requeridas:
        if nombre not in vistos:
            problemas.add(
                archivo,
                linea_encabezado,
                nombre,
                "falta la columna.",
                f"Agregue la columna {nombre} al encabezado (el separador detectado es "
                f"«{delimitador}»).",
            )
    conocidas = frozenset(n for n in vistos if n in (*requeridas, *opcionales))
    if not columnas_ok:
        # With a column named twice no cell can be trusted to be the one meant.
        return conocidas, iter(())

    def filas() -> Iterator[Fila]:
        for row in reader:
            linea = reader.line_num + desplazamiento
            if None in row or None in row.values():
                problemas.add(
                    archivo,
                    linea,
                    "",
                    f"la fila no tiene {len(nombres)} campos como el encabezado.",
                    f"Revise separadores («{delimitador}») y comillas en esta línea.",
                )
                continue
            celdas = {k: v.strip() for k, v in row.items() if k in conocidas}
            yield Fila(archivo, linea, celdas, problemas)

    return conocidas, filas()


def reportado(archivo: str, problemas: Problemas) -> bool:
    return any(p.archivo == archivo for p in problemas.items)
