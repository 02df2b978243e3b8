"""Catalog errors: one that stops a load, and a package's whole list of problems at once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from openprep.core.errors import UserError


class CatalogError(UserError):
    """A catalog that cannot be loaded as given."""


@dataclass(frozen=True, slots=True)
class Problema:
    """One thing wrong in an election package: where it is and what to do about it.

    ``linea`` is the physical line of the file (1 is the first line, ``sep=`` included);
    ``None`` when the problem concerns the whole file. ``columna`` is a CSV column name
    or a TOML key (``publicacion.inicio``); empty when it concerns a whole line or file.
    """

    archivo: str
    linea: int | None
    columna: str
    mensaje: str
    que_hacer: str

    @property
    def lugar(self) -> str:
        parts = [self.archivo]
        if self.linea is not None:
            parts.append(f"línea {self.linea}")
        if self.columna:
            parts.append(f"columna {self.columna}")
        return ", ".join(parts)

    @property
    def texto(self) -> str:
        return f"{self.lugar}: {self.mensaje} {self.que_hacer}".rstrip()


class PackageError(CatalogError):
    """Every problem found in an election package; nothing was loaded."""

    def __init__(self, problemas: Iterable[Problema]) -> None:
        self.problemas = tuple(problemas)
        total = len(self.problemas)
        super().__init__(
            f"el paquete electoral tiene {total} "
            f"{'error' if total == 1 else 'errores'}; no se importó nada.",
            hint="Corrija los archivos y vuelva a importar el paquete completo.",
        )

    @property
    def text(self) -> str:
        lines = [f"{self.message} {self.hint}"]
        lines.extend(f"  - {p.texto}" for p in self.problemas)
        return "\n".join(lines)
