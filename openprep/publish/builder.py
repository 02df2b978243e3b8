"""Build one corte from the database: downloads, acta images and site, signed and swapped in.

Every election is read in one transaction (REPEATABLE READ on PostgreSQL), so a corte
never mixes two moments. The files are written by :func:`openprep.publish.folder.build_corte`,
aside and then swapped in.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from openprep.catalog.models import ActaEsperada, Ambito, Eleccion, Proceso
from openprep.catalog.services import zona_horaria
from openprep.core.errors import UserError
from openprep.core.model import format_corte
from openprep.core.rules import Participacion
from openprep.intake.models import Acta, Estado, Imagen
from openprep.publish import signing
from openprep.publish.corte import (
    CasillaCatalogo,
    casillas_por_id,
    decide_corte,
    rule_settings_de,
)
from openprep.publish.download import election_key, write_download
from openprep.publish.folder import (
    CORTES,
    Latest,
    build_corte,
    file_sha256,
    publish_image,
    read_latest,
)
from openprep.publish.site import SiteCorte, SiteElection, write_site

DESCARGAS = "descargas"
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
def consistent_read() -> Iterator[None]:
    """One snapshot of the database for the whole corte."""
    outermost = not connection.in_atomic_block  # inside a caller's transaction: its snapshot
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


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


def _site_election(
    eleccion: Eleccion,
    *,
    hasta: datetime,
    folder: Path,
    participacion: Participacion,
    casillas: CasillaCatalogo,
) -> SiteElection:
    """Decide one election, write its download, and describe it for the site.

    ``casillas``: the catalog's, read once for the whole corte.
    """
    settings = replace(rule_settings_de(eleccion, hasta=hasta), participacion=participacion)
    decided = decide_corte(eleccion, hasta=hasta, settings=settings, casillas=casillas)
    download = write_download(
        eleccion, hasta=hasta, folder=folder, settings=settings, decided=decided
    )
    esperadas = (
        ActaEsperada.objects.filter(eleccion=eleccion)
        .order_by("orden")
        .values_list("casilla_id", flat=True)
    )
    return SiteElection(
        clave=election_key(eleccion),
        nombre=eleccion.nombre,
        ambito=eleccion.ambito or Ambito.DISTRITO,
        election=decided.election,
        summary=decided.summary,
        rows=decided.rows,
        download=download.path.name,
        download_size=download.path.stat().st_size,
        download_sha256=file_sha256(download.path),
        esperadas=[casillas[pk][0] for pk in esperadas.iterator(chunk_size=5000)],
        settings=settings,
    )


def _history(publicacion: Path) -> list[tuple[str, str, int, int]]:
    """The progress of earlier cortes, as the latest one recorded it."""
    latest = read_latest(publicacion)
    if latest is None:
        return []
    path = publicacion / CORTES / latest.corte / AVANCE
    return [tuple(item) for item in json.loads(path.read_text())] if path.exists() else []


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

    def write_files(folder: Path, numero: int) -> None:
        descargas = folder / DESCARGAS
        descargas.mkdir()
        with consistent_read():
            casillas = casillas_por_id()
            elections = [
                _site_election(
                    e, hasta=hasta, folder=descargas, participacion=participacion, casillas=casillas
                )
                for e in elecciones
            ]
        publish_images(publicacion, hasta=hasta)
        history = [
            *_history(publicacion),
            *(
                (e.clave, fecha_hora, int(e.summary["ACTAS_CAPTURADAS"]),
                 int(e.summary["ACTAS_CONTABILIZADAS"]))
                for e in elections
            ),
        ]  # fmt: skip
        write_site(
            folder,
            SiteCorte(
                instituto=proceso.instituto if proceso else "",
                entidad=proceso.entidad if proceso else "",
                numero=numero,
                fecha_hora=fecha_hora,
                final=final,
                elections=elections,
                public_key=signing.public_key(key.path),
                principal=key.principal,
                history=history,
            ),
        )
        (folder / AVANCE).write_text(json.dumps(history, ensure_ascii=False))

    return build_corte(
        publicacion,
        corte_id=corte_id(hasta, tz=tz),
        fecha_hora=fecha_hora,
        final=final,
        key=key.path,
        principal=key.principal,
        write_files=write_files,
    )
