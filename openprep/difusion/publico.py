"""What the public site says about the difusores: links to the enabled, notices for the rest.

Seed 001: a difusor cut off after three missed updates loses its link on the institute's
site and a notice is shown instead. Each corte's site is built with the list as it is
when the corte is built, so "the next corte's site" shows the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from django.conf import settings

from openprep.difusion.models import FALLAS_PARA_SUSPENDER, Difusor, TipoIncidente

_MOTIVOS = {
    TipoIncidente.SUSPENDIDO: (
        f"por no recibir {FALLAS_PARA_SUSPENDER} actualizaciones consecutivas del PREP"
    ),
    TipoIncidente.INHABILITADO: "por decisión del instituto",
}


@dataclass(frozen=True)
class DifusorPublico:
    nombre: str
    enlace: str
    logo: Path | None
    """The logo file to copy into the corte (None: no logo)."""
    aviso: str
    """Empty for an enabled difusor; otherwise why and since when it is not updated."""


def difusores_publicos(*, tz: tzinfo) -> list[DifusorPublico]:
    """Every registered difusor as the site shows it (times in ``tz``, the process's zone),
    enabled ones first, by name."""
    publicos = []
    for difusor in Difusor.objects.order_by("-habilitado", "nombre"):
        logo = Path(settings.MEDIA_ROOT) / difusor.logo.name if difusor.logo else None
        aviso = ""
        if not difusor.habilitado:
            ultimo = (
                difusor.incidentes.filter(tipo__in=list(_MOTIVOS)).order_by("-fecha", "-id").first()
            )
            desde = (
                f" desde el {ultimo.fecha.astimezone(tz):%d/%m/%Y a las %H:%M}" if ultimo else ""
            )
            motivo = f" {_MOTIVOS[TipoIncidente(ultimo.tipo)]}" if ultimo else ""
            aviso = (
                f"La publicación del PREP en {difusor.nombre} está suspendida{desde}{motivo}. "
                "Consulte los resultados en este sitio o en otro difusor oficial."
            )
        publicos.append(
            DifusorPublico(
                nombre=difusor.nombre,
                enlace=difusor.enlace if difusor.habilitado else "",
                logo=logo if logo is not None and logo.is_file() else None,
                aviso=aviso,
            )
        )
    return publicos
