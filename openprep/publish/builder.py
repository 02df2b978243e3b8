"""Build one corte from the database: downloads, acta images and site, signed and swapped in.

Every election is read in one transaction (REPEATABLE READ on PostgreSQL), so a corte
never mixes two moments. The files are written by :func:`openprep.publish.folder.build_corte`,
aside and then swapped in.

A large corte on PostgreSQL writes its elections in parallel: one thread per election
decides it and writes its download and its pages (most of that work is polars, zlib,
hashing and the database server's, which run outside the GIL). Each thread reads through
its own connection in a transaction that imports the builder's snapshot
(``pg_export_snapshot``/``SET TRANSACTION SNAPSHOT``), so every election is still read
at the same moment.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from pathlib import Path

import polars as pl
from django.conf import settings
from django.db import connection, transaction

from openprep.catalog.models import ActaEsperada, Ambito, Eleccion, Proceso
from openprep.catalog.services import zona_horaria
from openprep.core.errors import UserError
from openprep.core.model import format_corte
from openprep.core.rules import Participacion
from openprep.difusion.publico import difusores_publicos
from openprep.intake.models import Acta, Estado, Imagen
from openprep.publish import lectura, signing
from openprep.publish.corte import (
    decide_corte,
    rule_settings_de,
    without_cycle_collection,
)
from openprep.publish.download import election_key, write_download
from openprep.publish.folder import (
    CORTES,
    FileDigest,
    Latest,
    build_corte,
    digest_durably,
    flush,
    publish_image,
    read_latest,
)
from openprep.publish.site import (
    EleccionEscrita,
    SiteCorte,
    SiteDifusor,
    SiteElection,
    write_election_site,
    write_site_root,
)

PARALLEL_FROM = 20_000
"""Expected actas from which a corte's elections are written in threads of their own."""
DESCARGAS = "descargas"
DIFUSORES = "difusores"
"""Logos of the difusores oficiales listed on the site."""
AVANCE = "avance.json"
"""Each corte's progress and every earlier one's: the site's progress chart."""


class CorteError(UserError):
    """A corte that cannot be built as asked."""


@dataclass(frozen=True)
class SigningKey:
    """The institute's corte signing key and the identity difusores verify it under."""

    path: Path
    principal: str


def signing_key() -> SigningKey:
    """The configured signing key, created on first use (its public half goes on the site)."""
    key = SigningKey(path=Path(settings.OPENPREP_LLAVE_CORTE), principal=settings.OPENPREP_FIRMANTE)
    if not key.path.exists():
        signing.generate_key(key.path, principal=key.principal)
    return key


@contextmanager
def consistent_read(*, shared: bool = False) -> Iterator[str | None]:
    """One snapshot of the database for the whole corte.

    ``shared``: also export the snapshot, and give its id, so that other connections
    read the same moment (:func:`_snapshot_imported`). Only a transaction of the
    builder's own on PostgreSQL can share it: inside a caller's transaction (whose own
    writes other connections cannot see), or on SQLite, this gives None.
    """
    outermost = not connection.in_atomic_block  # inside a caller's transaction: its snapshot
    with transaction.atomic():
        snapshot = None
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                if shared:
                    cursor.execute("SELECT pg_export_snapshot()")
                    snapshot = cursor.fetchone()[0]
        yield snapshot


_SNAPSHOT_RE = re.compile(r"[0-9A-Fa-f]+(-[0-9A-Fa-f]+)+")


@contextmanager
def _snapshot_imported(snapshot: str | None) -> Iterator[None]:
    """In a thread of the builder's, read through that thread's own connection at
    ``snapshot`` (exported by :func:`consistent_read`); with None, the builder's own
    transaction."""
    if snapshot is None:
        yield
        return
    assert _SNAPSHOT_RE.fullmatch(snapshot), snapshot
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cursor.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            yield
    finally:
        connection.close()


def corte_id(hasta: datetime, *, tz: object) -> str:
    """A corte's folder name: its local date and time, ``20270606_211500`` (seconds, so an
    accelerated drill can publish several cortes a minute)."""
    return f"{hasta.astimezone(tz):%Y%m%d_%H%M%S}"  # type: ignore[arg-type]


def publish_images(publicacion: Path, *, hasta: datetime) -> int:
    """Copy the images of the actas verified by ``hasta`` that are not yet published."""
    published = 0
    actas = (
        Acta.objects.filter(
            estado=Estado.VERIFICADA, fecha_hora_verificacion__lte=hasta, imagen__isnull=False
        )
        .exclude(imagen__archivo="")
        .values_list("imagen__sha256", "imagen__archivo")
        .distinct()
    )
    storage = Imagen.archivo.field.storage
    for sha256, name in actas.iterator(chunk_size=5000):
        published += publish_image(publicacion, sha256=sha256, source=Path(storage.path(name)))
    return published


def every_expected_acta_verified() -> bool:
    """Publication may end early once every expected acta is in (DOMAIN.md §6)."""
    expected = ActaEsperada.objects.count()
    verified = Acta.objects.filter(esperada__isnull=False, estado=Estado.VERIFICADA).count()
    return expected > 0 and verified >= expected


@dataclass(frozen=True)
class _Corte:
    """What every election of a corte is written with (shared by the builder's threads)."""

    hasta: datetime
    participacion: Participacion
    casillas: Future[pl.DataFrame]
    """The catalog's casillas (:func:`lectura.casillas`), read once for the whole corte
    while the elections' threads read their expected actas."""
    site: SiteCorte
    """The corte as the site shows it; its ``elections`` still empty."""


@dataclass(frozen=True)
class _Escrita:
    """One election written: the site's view of it without its actas, and its pages."""

    election: SiteElection
    pages: EleccionEscrita
    digests: dict[str, FileDigest]
    """Every file written for the election, flushed and hashed (by path in the corte)."""


def _write_election(
    eleccion: Eleccion, *, corte: _Corte, folder: Path, snapshot: str | None
) -> _Escrita:
    """Decide one election, write its download and its pages.

    ``snapshot``: the builder's, when this runs in a thread of its own.
    """
    hasta = corte.hasta
    with _snapshot_imported(snapshot):
        settings = replace(
            rule_settings_de(eleccion, hasta=hasta), participacion=corte.participacion
        )
        esperadas = lectura.esperadas(eleccion, casillas=corte.casillas)
        decided = decide_corte(eleccion, hasta=hasta, settings=settings, esperadas=esperadas)
        download = write_download(
            eleccion, hasta=hasta, folder=folder / DESCARGAS, settings=settings, decided=decided
        )
        zip_digest = digest_durably(download.path)
        election = SiteElection(
            clave=election_key(eleccion),
            nombre=eleccion.nombre,
            ambito=eleccion.ambito or Ambito.DISTRITO,
            election=decided.election,
            summary=decided.summary,
            rows=decided.fuera,
            tabla=decided.tabla,
            download=download.path.name,
            download_size=zip_digest.size,
            download_sha256=zip_digest.sha256,
            esperadas=esperadas,
            settings=settings,
        )
        point = (
            election.clave,
            corte.site.fecha_hora,
            int(election.summary["ACTAS_CAPTURADAS"]),
            int(election.summary["ACTAS_CONTABILIZADAS"]),
        )
        site = replace(corte.site, elections=[election], history=[*corte.site.history, point])
        pages = write_election_site(folder, site)
    digests = {}
    for path in pages.paths:
        digest = pages.digests.get(path)
        if digest is None:
            digest = digest_durably(path)
        else:
            flush(path)
        digests[path.relative_to(folder).as_posix()] = digest
    digests[download.path.relative_to(folder).as_posix()] = zip_digest
    # What the root pages need: no actas.
    return _Escrita(
        election=replace(election, rows=(), esperadas=(), tabla=None),
        pages=pages,
        digests=digests,
    )


def _history(publicacion: Path) -> list[tuple[str, str, int, int]]:
    """The progress of earlier cortes, as the latest one recorded it."""
    latest = read_latest(publicacion)
    if latest is None:
        return []
    path = publicacion / CORTES / latest.corte / AVANCE
    return [tuple(item) for item in json.loads(path.read_text())] if path.exists() else []


def _difusores(folder: Path, *, tz: tzinfo) -> list[SiteDifusor]:
    """The difusores as this corte's site lists them; logos copied into the corte (its
    files never point outside it, and the manifest covers them)."""
    listed = []
    for n, d in enumerate(difusores_publicos(tz=tz), 1):
        logo = ""
        if d.logo is not None and not d.aviso:
            logo = f"{DIFUSORES}/{n}{d.logo.suffix.lower()}"
            (folder / DIFUSORES).mkdir(exist_ok=True)
            shutil.copyfile(d.logo, folder / logo)
        listed.append(SiteDifusor(nombre=d.nombre, enlace=d.enlace, logo=logo, aviso=d.aviso))
    return listed


def build(
    publicacion: Path, *, hasta: datetime, key: SigningKey, final: bool | None = None
) -> Latest:
    """Build, sign and publish the corte at ``hasta`` for every election of the process.

    ``final`` marks the last corte (participation then counts casillas especiales); by
    default a corte is final from the configured end of publication on.
    """
    elecciones = list(Eleccion.objects.select_related("proceso").order_by("id"))
    if not elecciones:
        raise CorteError(
            "no hay elecciones en el catálogo.",
            hint="Importe el paquete electoral con «openprep catalog import».",
        )
    tz = zona_horaria(elecciones[0].zona_horaria)
    proceso: Proceso | None = elecciones[0].proceso
    if final is None:
        final = proceso is not None and hasta >= proceso.fin_publicacion
    participacion = Participacion.FINAL if final else Participacion.OPERACION
    fecha_hora = format_corte(hasta, tz=tz)

    def write_files(folder: Path, numero: int) -> dict[str, FileDigest]:
        (folder / DESCARGAS).mkdir()
        site = SiteCorte(
            instituto=proceso.instituto if proceso else "",
            entidad=proceso.entidad if proceso else "",
            numero=numero,
            fecha_hora=fecha_hora,
            final=final,
            elections=[],
            public_key=signing.public_key(key.path),
            principal=key.principal,
            history=_history(publicacion),
            nav=[(election_key(e), e.nombre) for e in elecciones],
        )
        actas = ActaEsperada.objects.count()
        shared = len(elecciones) >= 2 and actas >= PARALLEL_FROM
        with consistent_read(shared=shared) as snapshot, without_cycle_collection():
            casillas: Future[pl.DataFrame] = Future()
            corte = _Corte(hasta=hasta, participacion=participacion, casillas=casillas, site=site)

            def write(e: Eleccion) -> _Escrita:
                return _write_election(e, corte=corte, folder=folder, snapshot=snapshot)

            if snapshot is None:
                casillas.set_result(lectura.casillas())
                escritas = [write(e) for e in elecciones]
            else:  # one thread per election, each with its own connection to the snapshot
                with ThreadPoolExecutor(len(elecciones), thread_name_prefix="corte") as pool:
                    pending = [pool.submit(write, e) for e in elecciones]
                    try:  # while the threads read their expected actas
                        casillas.set_result(lectura.casillas())
                    except BaseException as exc:
                        casillas.set_exception(exc)
                        raise
                    escritas = [p.result() for p in pending]
        publish_images(publicacion, hasta=hasta)
        elections = [x.election for x in escritas]
        history = [
            *site.history,
            *(
                (e.clave, fecha_hora, int(e.summary["ACTAS_CAPTURADAS"]),
                 int(e.summary["ACTAS_CONTABILIZADAS"]))
                for e in elections
            ),
        ]  # fmt: skip
        write_site_root(
            folder,
            replace(
                site,
                elections=elections,
                history=history,
                nav=(),
                difusores=_difusores(folder, tz=tz),
            ),
            [x.pages for x in escritas],
        )
        (folder / AVANCE).write_text(json.dumps(history, ensure_ascii=False))
        return {name: digest for x in escritas for name, digest in x.digests.items()}

    return build_corte(
        publicacion,
        corte_id=corte_id(hasta, tz=tz),
        fecha_hora=fecha_hora,
        final=final,
        key=key.path,
        principal=key.principal,
        write_files=write_files,
    )
