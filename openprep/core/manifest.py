"""The corte manifest: every file of a corte with its size and SHA-256, chained to the last.

The manifest is what gets signed, so its bytes must be one exact function of its content:
JSON, keys sorted, no insignificant whitespace, UTF-8, files sorted by path, one final
newline. Anyone can rebuild those bytes and compare (DOMAIN.md §5–6, ARCHITECTURE.md
convention 8).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from openprep.core.errors import UserError

MANIFEST_NAME = "manifest.json"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CORTE_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
"""A corte folder's name: safe in a path and a URL."""


class ManifestError(UserError):
    """A manifest that cannot be trusted as written."""


@dataclass(frozen=True)
class ManifestFile:
    """One file of a corte: its path relative to the corte's root, size and SHA-256."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """What a corte holds: its number and time, the software, the previous manifest's hash."""

    corte: int
    fecha_hora: str
    final: bool
    version: str
    anterior_corte: str | None
    """The previous corte's folder name, so a verifier can walk the chain back."""
    anterior_sha256: str | None
    files: tuple[ManifestFile, ...]

    def canonical_bytes(self) -> bytes:
        """The exact bytes that are written, hashed and signed."""
        document = {
            "corte": self.corte,
            "fecha_hora": self.fecha_hora,
            "final": self.final,
            "version": self.version,
            "anterior_corte": self.anterior_corte,
            "anterior_sha256": self.anterior_sha256,
            "files": [
                {"path": f.path, "size": f.size, "sha256": f.sha256}
                for f in sorted(self.files, key=lambda f: f.path)
            ],
        }
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return (text + "\n").encode("utf-8")

    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_bytes()).hexdigest()


def check_relative_path(path: str, *, where: str = MANIFEST_NAME) -> str:
    """A path inside the corte: relative, forward slashes, never ``..`` nor the manifest."""
    pure = PurePosixPath(path)
    if (
        not path
        or "\\" in path
        or pure.is_absolute()
        or any(part in ("", ".", "..") for part in path.split("/"))
        or path in (MANIFEST_NAME, MANIFEST_NAME + ".sig")
    ):
        raise ManifestError(
            f"la ruta {path!r} no es una ruta válida dentro del corte.",
            where=where,
            hint="Cada ruta es relativa a la carpeta del corte, con «/», sin «..» "
            "ni el propio manifiesto.",
        )
    return path


def check_corte_id(name: str) -> str:
    """A corte folder's name: letters, digits, ``_`` and ``-`` only (safe in paths and URLs)."""
    if not _CORTE_ID.fullmatch(name):
        raise ManifestError(
            f"{name!r} no es un nombre de corte válido.",
            hint="Use letras, dígitos, «_» o «-», p. ej. 20270606_2115.",
        )
    return name


def parse_manifest(data: bytes, *, where: str = MANIFEST_NAME) -> Manifest:
    """Read a manifest and check it is in canonical form (so its hash means one thing)."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(
            f"no es JSON UTF-8 válido ({exc}).",
            where=where,
            hint="Descargue de nuevo el corte; el manifiesto no debe editarse.",
        ) from exc
    manifest = _manifest_from(document, where=where)
    if manifest.canonical_bytes() != data:
        raise ManifestError(
            "no está en forma canónica (claves ordenadas, sin espacios, archivos por ruta, "
            "un salto de línea final).",
            where=where,
            hint="El manifiesto firmado no debe reformatearse; descárguelo de nuevo.",
        )
    return manifest


def _manifest_from(document: Any, *, where: str) -> Manifest:
    if not isinstance(document, dict):
        raise ManifestError("debe ser un objeto JSON.", where=where)
    expected = {
        "corte",
        "fecha_hora",
        "final",
        "version",
        "anterior_corte",
        "anterior_sha256",
        "files",
    }
    if set(document) != expected:
        raise ManifestError(
            f"claves {sorted(document)}; se esperaban {sorted(expected)}.", where=where
        )
    corte, fecha_hora, version = document["corte"], document["fecha_hora"], document["version"]
    anterior, files = document["anterior_sha256"], document["files"]
    final, anterior_corte = document["final"], document["anterior_corte"]
    if not isinstance(corte, int) or isinstance(corte, bool) or corte < 1:
        raise ManifestError("«corte» debe ser un entero positivo.", where=where)
    if not isinstance(fecha_hora, str) or not isinstance(version, str):
        raise ManifestError("«fecha_hora» y «version» deben ser texto.", where=where)
    if not isinstance(final, bool):
        raise ManifestError("«final» debe ser true o false.", where=where)
    if (anterior_corte is None) != (anterior is None) or not (
        anterior_corte is None
        or (isinstance(anterior_corte, str) and _CORTE_ID.fullmatch(anterior_corte))
    ):
        raise ManifestError(
            "«anterior_corte» y «anterior_sha256» van juntos: ambos null o ambos presentes.",
            where=where,
        )
    if anterior is not None and not (isinstance(anterior, str) and _SHA256.fullmatch(anterior)):
        raise ManifestError("«anterior_sha256» debe ser null o un SHA-256.", where=where)
    if not isinstance(files, list):
        raise ManifestError("«files» debe ser una lista.", where=where)
    entries = tuple(_file_from(item, where=where) for item in files)
    seen: set[str] = set()
    for entry in entries:
        if entry.path in seen:
            raise ManifestError(f"la ruta {entry.path!r} aparece dos veces.", where=where)
        seen.add(entry.path)
    return Manifest(
        corte=corte,
        fecha_hora=fecha_hora,
        final=final,
        version=version,
        anterior_corte=anterior_corte,
        anterior_sha256=anterior,
        files=entries,
    )


def _file_from(item: Any, *, where: str) -> ManifestFile:
    if not isinstance(item, dict) or set(item) != {"path", "size", "sha256"}:
        raise ManifestError(
            "cada archivo debe tener exactamente «path», «size» y «sha256».", where=where
        )
    path, size, sha256 = item["path"], item["size"], item["sha256"]
    if not isinstance(path, str):
        raise ManifestError("«path» debe ser texto.", where=where)
    check_relative_path(path, where=where)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ManifestError(f"{path}: «size» debe ser un entero no negativo.", where=where)
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise ManifestError(f"{path}: «sha256» debe ser hexadecimal en minúsculas.", where=where)
    return ManifestFile(path=path, size=size, sha256=sha256)
