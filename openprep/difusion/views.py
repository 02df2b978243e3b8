"""The status board of the difusores oficiales: who is up to date, who is failing, and why."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from openprep.accounts.access import roles
from openprep.accounts.models import Rol
from openprep.core.model import utc_offset_name
from openprep.difusion.estado import estado_difusores
from openprep.difusion.models import Resultado
from openprep.publish.folder import read_latest
from openprep.web import wants_json

RESULTADOS = dict(Resultado.choices)


@roles(Rol.ADMINISTRADOR, Rol.COORDINADOR)
@require_GET
def tablero(request: HttpRequest) -> HttpResponse:
    """``GET /difusion/``: each difusor's standing, its last deliveries and incidents.

    With ``Accept: application/json`` the answer is ``{"generado": ISO time,
    "corte_vigente": id or null, "difusores": [EstadoDifusor.as_json()]}``; the same
    figures ``openprep difusion status --json`` prints.
    """
    ahora = timezone.now()
    estados = estado_difusores(publicacion=Path(settings.OPENPREP_PUBLICACION))
    vigente = estados[0].corte_vigente if estados else _corte_vigente()
    if wants_json(request):
        return JsonResponse(
            {
                "generado": ahora.isoformat(),
                "corte_vigente": vigente,
                "difusores": [e.as_json() for e in estados],
            }
        )
    return render(
        request,
        "difusion/tablero.html",
        {
            "generado": _hora(ahora),
            "generado_iso": timezone.localtime(ahora).isoformat(),
            "corte_vigente": vigente,
            "difusores": [
                {
                    "estado": e,
                    "historial": [
                        {
                            "e": h,
                            "inicio": _hora(h.inicio),
                            "fin": _hora(h.fin),
                            "resultado": RESULTADOS.get(h.resultado, h.resultado),
                        }
                        for h in e.historial
                    ],
                    "incidentes": [{"i": i, "fecha": _hora(i.fecha)} for i in e.incidentes],
                }
                for e in estados
            ],
            "suspendidos": sum(1 for e in estados if not e.habilitado),
            "al_dia": sum(1 for e in estados if e.cortes_atras == 0),
        },
    )


def _corte_vigente() -> str | None:
    latest = read_latest(Path(settings.OPENPREP_PUBLICACION))
    return latest.corte if latest else None


def _hora(momento: datetime | None) -> str:
    """A moment in the console's time with its offset: 2027-06-06 21:03:05 (UTC-5)."""
    if momento is None:
        return ""
    local = timezone.localtime(momento)
    return f"{local:%Y-%m-%d %H:%M:%S} ({utc_offset_name(local.utcoffset() or timedelta(0))})"
