"""The download of one election in a corte: ``YYYYMMDD_HHMM_PREP_<ELECCION>.zip``.

It holds the PREP database (reference layout, the corte writer's bytes), the candidacies
catalog (``<ELECCION>_CANDIDATURAS_<AÑO>.csv``, columns as the reference's) and a Spanish
LEEME describing every field. The zip's entries carry the corte's time, so the same
corte always gives the same bytes.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.template.loader import render_to_string

from openprep.catalog.models import Ambito, Candidatura, Eleccion
from openprep.catalog.services import zona_horaria
from openprep.core.model import TipoContendiente
from openprep.core.rules import Participacion, RuleSettings
from openprep.publish.corte import CorteDatabase, DecidedCorte, decide_corte, write_decided

TERRITORY_COLUMN = {
    Ambito.DISTRITO: "ID_DISTRITO_LOCAL",
    Ambito.MUNICIPIO: "ID_MUNICIPIO",
}
_KIND_TEXT = {
    TipoContendiente.PARTIDO: "el partido político {}",
    TipoContendiente.COALICION: "la combinación de la coalición {}",
    TipoContendiente.CANDIDATURA_COMUN: "la candidatura común {}",
    TipoContendiente.CANDIDATURA_INDEPENDIENTE: "la candidatura independiente {}",
}


@dataclass(frozen=True)
class Download:
    """One election's zip in a corte, and what the site needs to say about it."""

    path: Path
    database: CorteDatabase
    csv_name: str


def election_key(eleccion: Eleccion) -> str:
    """The election's name in file names: its package key, or its name without spaces."""
    return eleccion.clave or "_".join(eleccion.nombre.split())


def download_name(eleccion: Eleccion, *, hasta: datetime) -> str:
    local = hasta.astimezone(zona_horaria(eleccion.zona_horaria))
    return f"{local:%Y%m%d_%H%M}_PREP_{election_key(eleccion)}.zip"


def candidacies_csv(eleccion: Eleccion) -> bytes:
    """The candidacies catalog: per territory, contender and candidates, in ballot order."""
    territory = TERRITORY_COLUMN.get(Ambito(eleccion.ambito)) if eleccion.ambito else None
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["ID_ESTADO", "PARTIDO_CI", "CANDIDATURA_PROPIETARIA", "CANDIDATURA_SUPLENTE"]
    if territory:
        header.insert(1, territory)
    writer.writerow(header)
    id_estado = eleccion.proceso.id_entidad if eleccion.proceso else ""
    rows = Candidatura.objects.filter(eleccion=eleccion).select_related("contendiente")
    for c in rows.order_by("id_territorio", "contendiente__orden"):
        row = [id_estado, c.contendiente.clave, c.propietario, c.suplente]
        if territory:
            row.insert(1, "" if c.id_territorio is None else c.id_territorio)
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")


def leeme(
    eleccion: Eleccion,
    *,
    database_name: str,
    candidacies_name: str,
    fecha_hora: str,
    settings: RuleSettings,
) -> bytes:
    """The LEEME: every field of the database explained in Spanish, for this election."""
    proceso = eleccion.proceso
    contendientes = [
        {"columna": c.clave, "descripcion": _KIND_TEXT[TipoContendiente(c.tipo)].format(c.clave)}
        for c in eleccion.contendientes.order_by("orden")
    ]
    tipos = [t for t in (eleccion.tipo_acta, eleccion.tipo_acta_especial) if t]
    text = render_to_string(
        "publish/LEEME.txt",
        {
            "instituto": proceso.instituto if proceso else "",
            "eleccion": eleccion.nombre,
            "fecha_hora": fecha_hora,
            "archivo_base": database_name,
            "archivo_candidaturas": candidacies_name,
            "contendientes": contendientes,
            "observaciones": [f"«{label}»" for label in settings.labels.values()],
            "tipos_acta": " y ".join(
                f"{t} casillas {'especiales' if t == eleccion.tipo_acta_especial else 'ordinarias'}"
                for t in tipos
            )
            or "según el catálogo",
            "zona": eleccion.zona_horaria,
            "margen": (
                "el número de representantes acreditados ante la casilla"
                if settings.representantes.value == "columna"
                else "dos representantes (propietario y suplente) por cada partido y "
                "candidatura independiente en la boleta"
            ),
            "boletas_especial": settings.boletas_especial,
            "participacion": (
                "TOTAL_VOTOS_C_CS / LISTA_NOMINAL_ACTAS_CONTABILIZADAS × 100 (corte final)."
                if settings.participacion == Participacion.FINAL
                else "TOTAL_VOTOS_S_CS / LISTA_NOMINAL_ACTAS_CONTABILIZADAS × 100 (durante "
                "la operación; en el corte final incluye las casillas especiales)."
            ),
        },
    )
    return text.encode("utf-8")


ZIP_LEVEL = 1
"""Deflate level of every entry: level 1 makes the CSV 3.5 × smaller in a third of level
6's time (benchmarks/README.md measures the floor with this same level)."""


def _entry(name: str, *, stamp: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    """A deflated entry stamped with the corte's time, so a corte always gives the same
    bytes (a bare ZipInfo would be STORED whatever the archive says)."""
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info._compresslevel = ZIP_LEVEL  # type: ignore[attr-defined]  # what writestr(compresslevel=) sets
    return info


def write_download(
    eleccion: Eleccion,
    *,
    hasta: datetime,
    folder: Path,
    settings: RuleSettings,
    decided: DecidedCorte | None = None,
) -> Download:
    """Write the election's zip into ``folder`` and return what it holds (``decided``: the
    corte already read and decided, as the corte builder passes it)."""
    tz = zona_horaria(eleccion.zona_horaria)
    local = hasta.astimezone(tz)
    key = election_key(eleccion)
    year = (eleccion.proceso.inicio_publicacion if eleccion.proceso else hasta).astimezone(tz).year
    database_name = f"{local:%Y%m%d_%H%M}_PREP_{key}.csv"
    candidacies_name = f"{key}_CANDIDATURAS_{year}.csv"
    if decided is None:
        decided = decide_corte(eleccion, hasta=hasta, settings=settings)
    stamp = (local.year, local.month, local.day, local.hour, local.minute, 0)
    path = folder / download_name(eleccion, hasta=hasta)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        # The database streams into its entry as it is formatted: the CSV is never held
        # whole in memory, nor encoded or compressed in one piece.
        with (
            archive.open(_entry(database_name, stamp=stamp), "w") as raw,
            io.TextIOWrapper(raw, encoding="utf-8", newline="") as text,
        ):
            database = write_decided(decided, out=text, settings=settings)
        for name, data in (
            (candidacies_name, candidacies_csv(eleccion)),
            (
                "LEEME.txt",
                leeme(
                    eleccion,
                    database_name=database_name,
                    candidacies_name=candidacies_name,
                    fecha_hora=database.corte,
                    settings=settings,
                ),
            ),
        ):
            archive.writestr(_entry(name, stamp=stamp), data)
    return Download(path=path, database=database, csv_name=database_name)
