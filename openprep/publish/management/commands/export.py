"""``openprep export --out DIR [--eleccion CLAVE]``: the current state as PREP databases."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db.models import Q
from django.utils import timezone

from openprep.catalog.models import Eleccion
from openprep.commands import OpenprepCommand
from openprep.core.errors import UserError
from openprep.publish.corte import nombre_base, rule_settings_de, write_corte_database


class ExportError(UserError):
    """An export that cannot be written as asked."""


class Command(OpenprepCommand):
    help = (
        "Escribe el estado actual (todas las actas verificadas hasta ahora) como bases de "
        "datos PREP, una por elección, en DIR/<CLAVE_ELECCION>.csv, con el mismo formato "
        "que los cortes."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--out", required=True, help="carpeta donde escribir los archivos")
        parser.add_argument(
            "--eleccion", help="clave de la elección (p. ej. DIP); predeterminado: todas"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        elecciones = _elecciones(options["eleccion"])
        out = _carpeta(Path(options["out"]))
        ahora = timezone.now()
        for eleccion in elecciones:
            destino = out / nombre_base(eleccion)
            actas = _escribir(eleccion, destino=destino, ahora=ahora)
            self.stdout.write(f"{destino}: {actas:,} actas de {eleccion.nombre}.")


def _elecciones(clave: str | None) -> list[Eleccion]:
    elecciones = Eleccion.objects.select_related("proceso").order_by("id")
    if clave is None:
        todas = list(elecciones)
        if not todas:
            raise ExportError(
                "no hay elecciones en el catálogo.",
                hint="Importe el paquete electoral con «openprep catalog import».",
            )
        return todas
    elegidas = list(elecciones.filter(Q(clave=clave) | Q(clave="", nombre=clave)))
    if not elegidas:
        conocidas = ", ".join(e.clave or e.nombre for e in elecciones) or "ninguna"
        raise ExportError(
            f"no hay una elección con clave {clave!r}.",
            where="--eleccion",
            hint=f"Elecciones del catálogo: {conocidas}.",
        )
    return elegidas


def _carpeta(out: Path) -> Path:
    try:
        if out.exists() and not out.is_dir():
            raise ExportError(
                "es un archivo, no una carpeta.",
                where=f"--out {out}",
                hint="Indique en --out una carpeta (se crea si no existe).",
            )
        out.mkdir(parents=True, exist_ok=True)
    except OSError:  # no permission to look into or create a folder on the way
        raise ExportError(
            "no se puede crear la carpeta (falta permiso o la ruta no es válida).",
            where=f"--out {out}",
            hint="Indique en --out una carpeta en la que usted pueda escribir.",
        ) from None
    if not os.access(out, os.W_OK | os.X_OK, effective_ids=os.access in os.supports_effective_ids):
        raise ExportError(
            "no tiene permiso de escritura en la carpeta.",
            where=f"--out {out}",
            hint="Indique en --out una carpeta en la que usted pueda escribir.",
        )
    return out


def _escribir(eleccion: Eleccion, *, destino: Path, ahora: datetime) -> int:
    """Write beside the destination, then rename: a reader never sees half a file."""
    temporal = destino.with_name(f".{destino.name}.tmp")
    try:
        with open(temporal, "w", encoding="utf-8", newline="") as out:
            database = write_corte_database(
                eleccion, hasta=ahora, out=out, settings=rule_settings_de(eleccion, hasta=ahora)
            )
        os.replace(temporal, destino)
    except OSError:
        raise ExportError(
            "no se pudo escribir el archivo (falta permiso o espacio en disco).",
            where=str(destino),
            hint="Revise el espacio libre y los permisos de la carpeta indicada en --out.",
        ) from None
    finally:
        temporal.unlink(missing_ok=True)
    return database.actas
