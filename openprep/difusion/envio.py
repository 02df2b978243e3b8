"""Deliver one corte to one difusor so that its folder always holds a whole corte.

The order is what keeps a mirror whole at every instant, whatever fails:

1. acta images the server lacks, each under ``imagenes/.parcial-<sha>`` then renamed
   (a name under ``imagenes/`` is always a complete image);
2. the corte under ``cortes/.parcial-<id>/``: files the difusor's current corte already
   has with the same hash are hard-linked on the server where it can (SFTP), the rest
   uploaded; a partial folder left by a dropped connection or a killed worker is resumed
   (files already there with their full size are kept); ``manifest.json`` goes last;
3. the check: every file's size from the server's listing, SHA-256 from the server where
   it offers one, and ``manifest.json`` and its signature read back byte for byte; then
   the folder is renamed to ``cortes/<id>``;
4. ``latest.json`` last (uploaded aside, read back, renamed over the old one): until this
   rename the difusor's site shows the previous corte, whole; after it, the new one.

The root ``index.html`` (written once by the publication) goes with the first delivery.
"""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from django.utils import timezone

from openprep.core.manifest import MANIFEST_NAME, ManifestError, parse_manifest
from openprep.difusion.transporte import Destino, FallaDeDifusor, unir
from openprep.publish.folder import (
    CORTES,
    IMAGENES,
    LATEST,
    PARTIAL_PREFIX,
    Latest,
    PublicationError,
    parse_latest,
)

FIRMA = f"{MANIFEST_NAME}.sig"
PORTADA = "index.html"


@dataclass
class Resumen:
    """What one delivery moved: files and bytes sent, files the server already had."""

    archivos: int = 0
    bytes: int = 0
    omitidos: int = 0


Avance = Callable[[str], None]
"""Called with each remote path before it is written (progress; tests cut connections)."""


class _Entrega:
    def __init__(
        self,
        destino: Destino,
        *,
        publicacion: Path,
        latest: Latest,
        plazo: datetime | None,
        avance: Avance | None,
        imagenes_desde: float | None,
    ):
        self.destino = destino
        self.publicacion = publicacion
        self.latest = latest
        self.plazo = plazo
        self.avance = avance or (lambda _ruta: None)
        self.imagenes_desde = imagenes_desde
        self.resumen = Resumen()
        self.remoto_latest = destino.leer(LATEST)
        """The difusor's latest.json when the delivery began (None: it has none)."""

    def _a_tiempo(self) -> None:
        if self.plazo is not None and timezone.now() >= self.plazo:
            raise FallaDeDifusor(
                f"se agotó el plazo del periodo ({self.plazo:%H:%M:%S}) antes de terminar "
                f"el corte {self.latest.corte}; el difusor conserva su corte anterior completo."
            )

    def _subir(self, local: Path, remota: str) -> None:
        self._subir_lote([(local, remota)])

    def _subir_lote(self, pares: list[tuple[Path, str]]) -> None:
        self._a_tiempo()
        self.resumen.bytes += self.destino.subir_lote(
            pares, vigilar=self._a_tiempo, avance=self.avance
        )
        self.resumen.archivos += len(pares)

    def _subir_y_renombrar(self, local: Path, remota: str) -> None:
        parent, name = PurePosixPath(remota).parent.as_posix(), PurePosixPath(remota).name
        aside = unir(parent, PARTIAL_PREFIX + name)
        self._subir(local, aside)
        if self.destino.leer(aside) != local.read_bytes():
            raise FallaDeDifusor(f"{remota} llegó distinto al difusor (se leyó de vuelta).")
        self.destino.renombrar(aside, remota)

    def portada(self) -> None:
        local = self.publicacion / PORTADA
        if local.exists() and self.destino.listar(".").get(PORTADA) != local.stat().st_size:
            self._subir_y_renombrar(local, PORTADA)

    def imagenes(self) -> None:
        """Images the difusor lacks. After a delivery that succeeded, only images published
        since it began can be missing (images never leave a mirror), so a national
        night's hundreds of thousands are not listed again every corte."""
        carpeta = self.publicacion / IMAGENES
        if not carpeta.is_dir():
            return
        desde = self.imagenes_desde
        remotas = self.destino.listar(IMAGENES) if desde is None else {}
        nuevas = []
        with os.scandir(carpeta) as entries:
            for entry in entries:
                if entry.name.startswith(PARTIAL_PREFIX) or not entry.is_file():
                    continue
                info = entry.stat()
                if desde is not None and info.st_mtime < desde:
                    self.resumen.omitidos += 1  # published before the last whole delivery
                elif remotas.get(entry.name) == info.st_size:
                    self.resumen.omitidos += 1
                else:
                    nuevas.append(Path(entry.path))
        if not nuevas:
            return
        self.destino.crear_carpeta(IMAGENES)
        nuevas.sort()
        self._subir_lote([(p, unir(IMAGENES, PARTIAL_PREFIX + p.name)) for p in nuevas])
        for local in nuevas:
            self.destino.renombrar(
                unir(IMAGENES, PARTIAL_PREFIX + local.name), unir(IMAGENES, local.name)
            )

    def _hashes_del_corte_remoto(self) -> tuple[str, dict[str, str]]:
        """The difusor's current corte and its files' hashes, if it is one of ours."""
        data = self.remoto_latest
        if data is None:
            return "", {}
        try:
            remoto = parse_latest(data, where=LATEST)
            local = self.publicacion / CORTES / remoto.corte / MANIFEST_NAME
            manifest = parse_manifest(local.read_bytes(), where=str(local))
        except (PublicationError, ManifestError, OSError):
            return "", {}
        if manifest.sha256() != remoto.manifest_sha256:
            return "", {}
        return remoto.corte, {f.path: f.sha256 for f in manifest.files}

    def corte(self) -> None:
        corte = self.latest.corte
        local = self.publicacion / CORTES / corte
        manifest_bytes = (local / MANIFEST_NAME).read_bytes()
        manifest = parse_manifest(manifest_bytes, where=str(local / MANIFEST_NAME))
        final = unir(CORTES, corte)
        if self.destino.leer(unir(final, MANIFEST_NAME)) == manifest_bytes:
            self.resumen.omitidos += len(manifest.files) + 2  # renamed whole before
            return
        anterior, hashes = self._hashes_del_corte_remoto()
        parcial = unir(CORTES, PARTIAL_PREFIX + corte)
        por_carpeta: dict[str, dict[str, int]] = defaultdict(dict)
        for entry in manifest.files:
            path = PurePosixPath(entry.path)
            por_carpeta[path.parent.as_posix()][path.name] = entry.size
        hay: dict[str, dict[str, int]] = {}
        for carpeta in sorted(por_carpeta):
            self.destino.crear_carpeta(unir(parcial, carpeta))
            hay[carpeta] = self.destino.listar(unir(parcial, carpeta))
        faltan = []
        for entry in manifest.files:
            path = PurePosixPath(entry.path)
            remota = unir(parcial, entry.path)
            if hay[path.parent.as_posix()].get(path.name) == entry.size:
                self.resumen.omitidos += 1  # a resumed delivery: this file arrived whole
            elif hashes.get(entry.path) == entry.sha256 and self.destino.enlazar(
                unir(CORTES, anterior, entry.path), remota
            ):
                self.resumen.omitidos += 1
            else:
                faltan.append((local / entry.path, remota))
        faltan.append((local / FIRMA, unir(parcial, FIRMA)))
        faltan.append((local / MANIFEST_NAME, unir(parcial, MANIFEST_NAME)))  # last
        self._subir_lote(faltan)
        hashes_nuevos = {f.path: f.sha256 for f in manifest.files}
        self._comprobar(parcial, local=local, esperado=por_carpeta, hashes=hashes_nuevos)
        self.destino.renombrar(parcial, final)

    def _comprobar(
        self,
        parcial: str,
        *,
        local: Path,
        esperado: dict[str, dict[str, int]],
        hashes: dict[str, str],
    ) -> None:
        for nombre in (MANIFEST_NAME, FIRMA):
            if self.destino.leer(unir(parcial, nombre)) != (local / nombre).read_bytes():
                raise FallaDeDifusor(f"{nombre} llegó distinto al difusor (se leyó de vuelta).")
        for carpeta, archivos in esperado.items():
            remotos = self.destino.listar(unir(parcial, carpeta))
            for nombre, size in archivos.items():
                ruta = PurePosixPath(carpeta, nombre).as_posix()
                if remotos.get(nombre) != size:
                    raise FallaDeDifusor(
                        f"{ruta} quedó con {remotos.get(nombre, 0)} bytes en el difusor; "
                        f"debían ser {size}."
                    )
                remoto = self.destino.sha256(unir(parcial, ruta))
                if remoto is not None and remoto != hashes[ruta]:
                    raise FallaDeDifusor(f"{ruta} llegó con otro SHA-256 al difusor.")

    def apuntar(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / LATEST
            local.write_bytes(self.latest.to_bytes())  # this corte's, even if a newer one exists
            self._subir_y_renombrar(local, LATEST)


def entregar(
    destino: Destino,
    *,
    publicacion: Path,
    latest: Latest,
    plazo: datetime | None = None,
    avance: Avance | None = None,
    imagenes_desde: float | None = None,
) -> Resumen:
    """Bring the difusor behind ``destino`` to ``latest``; what it took.

    ``imagenes_desde``: when the last delivery that succeeded began (a POSIX timestamp);
    images published before it are on the difusor already. None: list them there."""
    entrega = _Entrega(
        destino,
        publicacion=publicacion,
        latest=latest,
        plazo=plazo,
        avance=avance,
        imagenes_desde=imagenes_desde,
    )
    if entrega.remoto_latest == latest.to_bytes():
        return entrega.resumen  # already there
    entrega.portada()
    entrega.imagenes()
    entrega.corte()
    entrega.apuntar()
    return entrega.resumen
