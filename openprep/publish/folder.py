"""The publication folder: cortes built aside, signed, and swapped in atomically.

```
PUBLICACION/
  latest.json            the only file that ever changes: names the current corte
  cortes/<id>/           one folder per corte, never changed once published
    manifest.json        every other file of the corte with size and SHA-256
    manifest.json.sig    Ed25519 signature (ssh-keygen -Y sign, namespace openprep-corte)
    allowed_signers      the key that verifies it
    ...                  the corte's files
  imagenes/<sha256>      acta images, once each, shared by every corte
```

A corte is written under ``cortes/.parcial-<id>``, its manifest and signature last, then
renamed to ``cortes/<id>``; ``latest.json`` is then replaced by rename. A crash at any
point leaves the previous corte published and intact (the partial folder is removed by the
next build). ``latest.json`` is a plain file, not a link, because FTP mirrors hold no links.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from openprep import __version__
from openprep.core.errors import UserError
from openprep.core.manifest import (
    MANIFEST_NAME,
    Manifest,
    ManifestFile,
    check_corte_id,
    check_relative_path,
)
from openprep.publish import signing

CORTES = "cortes"
IMAGENES = "imagenes"
LATEST = "latest.json"
PARTIAL_PREFIX = ".parcial-"
_CHUNK = 1 << 20


class PublicationError(UserError):
    """A publication folder that cannot take a new corte."""


@dataclass(frozen=True)
class Latest:
    """What ``latest.json`` says: the current corte's folder, number, time and manifest hash."""

    corte: str
    numero: int
    fecha_hora: str
    manifest_sha256: str

    def to_bytes(self) -> bytes:
        document = {
            "corte": f"{CORTES}/{self.corte}",
            "numero": self.numero,
            "fecha_hora": self.fecha_hora,
            "manifest_sha256": self.manifest_sha256,
        }
        return (json.dumps(document, sort_keys=True, ensure_ascii=False) + "\n").encode()


def parse_latest(data: bytes, *, where: str) -> Latest:
    try:
        document = json.loads(data)
        return Latest(
            corte=str(document["corte"]).removeprefix(f"{CORTES}/"),
            numero=int(document["numero"]),
            fecha_hora=str(document["fecha_hora"]),
            manifest_sha256=str(document["manifest_sha256"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise PublicationError(
            f"{where} no se puede leer ({exc}).",
            hint="latest.json solo lo escribe openprep; restaure el de un respaldo.",
        ) from exc


def read_latest(publicacion: Path) -> Latest | None:
    """The current corte, or None before the first one."""
    path = publicacion / LATEST
    if not path.exists():
        return None
    return parse_latest(path.read_bytes(), where=str(path))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class FileDigest:
    """A written file's size and SHA-256, as the manifest lists them."""

    size: int
    sha256: str


def digest_durably(path: Path) -> FileDigest:
    """Flush ``path`` to disk and read its size and hash back: what the manifest lists.

    The corte builder's workers call it on the files they write, so that the hashing
    and the waiting on the disk are shared among processes instead of piling up at the
    end of the build.
    """
    _fsync(path)
    return FileDigest(size=path.stat().st_size, sha256=file_sha256(path))


def flush(path: Path) -> None:
    """Flush a written file to disk (its digest was taken as it was written)."""
    _fsync(path)


def _walk(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield path


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


ENTRY_PAGE = """<!doctype html>
<html lang="es-MX">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>PREP: resultados preliminares</title>
<script>
fetch("latest.json", {cache: "no-store"}).then(function (r) { return r.json(); })
  .then(function (l) { location.replace(l.corte + "/index.html"); });
</script>
</head>
<body>
<h1>Programa de Resultados Electorales Preliminares</h1>
<p>Abriendo el corte más reciente…</p>
<noscript><p>Sin JavaScript: abra <a href="latest.json">latest.json</a>, que nombra la carpeta
del corte vigente, y luego <code>cortes/&lt;corte&gt;/index.html</code>.</p></noscript>
</body>
</html>
"""


def write_entry_page(publicacion: Path) -> None:
    """The publication's front door, written once: it follows latest.json to the current
    corte, so latest.json stays the only file that ever changes."""
    page = publicacion / "index.html"
    if not page.exists():
        staged = publicacion / f"{PARTIAL_PREFIX}index.html"
        _write_durably(staged, ENTRY_PAGE.encode())
        os.replace(staged, page)


def publish_image(publicacion: Path, *, sha256: str, source: Path) -> bool:
    """Copy an acta image once under its hash; False if it was already published."""
    target = publicacion / IMAGENES / sha256
    if target.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{PARTIAL_PREFIX}{sha256}")
    shutil.copyfile(source, partial)
    _fsync(partial)
    os.replace(partial, target)
    return True


def build_corte(
    publicacion: Path,
    *,
    corte_id: str,
    fecha_hora: str,
    final: bool = False,
    key: Path,
    principal: str,
    write_files: Callable[[Path, int], Mapping[str, FileDigest] | None],
) -> Latest:
    """Build one corte aside with ``write_files(folder, numero)``, sign it, and swap it in.

    ``write_files`` may return the digests (:func:`digest_durably`) of files it already
    flushed and hashed, by path relative to the folder; every other file is flushed and
    hashed here.
    """
    cortes = publicacion / CORTES
    cortes.mkdir(parents=True, exist_ok=True)
    for leftover in cortes.glob(f"{PARTIAL_PREFIX}*"):
        shutil.rmtree(leftover)  # a build that crashed; it was never published
    target = cortes / check_corte_id(corte_id)
    if target.exists():
        raise PublicationError(
            f"el corte {corte_id} ya está publicado; los cortes publicados no cambian.",
            hint="Cada corte tiene su propia hora; espere al siguiente intervalo.",
        )
    previous = read_latest(publicacion)
    partial = cortes / f"{PARTIAL_PREFIX}{corte_id}"
    partial.mkdir()
    numero = previous.numero + 1 if previous else 1
    known = write_files(partial, numero) or {}
    _write_durably(
        partial / signing.ALLOWED_SIGNERS,
        signing.allowed_signers(principal=principal, key=key).encode(),
    )
    files = []
    folders = {partial}
    for path in _walk(partial):
        folders.add(path.parent)
        relative = check_relative_path(path.relative_to(partial).as_posix())
        digest = known.get(relative)
        if digest is None or digest.size != path.stat().st_size:
            digest = digest_durably(path)
        files.append(ManifestFile(path=relative, size=digest.size, sha256=digest.sha256))
    manifest = Manifest(
        corte=numero,
        fecha_hora=fecha_hora,
        final=final,
        version=__version__,
        anterior_corte=previous.corte if previous else None,
        anterior_sha256=previous.manifest_sha256 if previous else None,
        files=tuple(files),
    )
    data = manifest.canonical_bytes()
    _write_durably(partial / f"{MANIFEST_NAME}.sig", signing.sign(data, key=key))
    _write_durably(partial / MANIFEST_NAME, data)
    for folder in sorted(folders, reverse=True):  # the files' names, deepest first
        _fsync(folder)
    os.rename(partial, target)
    _fsync(cortes)
    latest = Latest(
        corte=corte_id,
        numero=manifest.corte,
        fecha_hora=fecha_hora,
        manifest_sha256=manifest.sha256(),
    )
    staged = publicacion / f"{PARTIAL_PREFIX}{LATEST}"
    _write_durably(staged, latest.to_bytes())
    os.replace(staged, publicacion / LATEST)
    write_entry_page(publicacion)
    _fsync(publicacion)
    return latest
