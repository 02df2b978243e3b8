"""Where each difusor stands: the figures of the status board and of ``openprep difusion status``.

One function, :func:`estado_difusores`, reads the registry, the deliveries (the outbox) and
the incidents, and compares each difusor's last delivered corte with the publication's
current one (``latest.json``), so the screen and the command show the same numbers.

How far behind a difusor is ("lag") is measured in cortes and in minutes:

- cortes: the corte folders published after the difusor's last delivered corte, up to and
  including the current one (corte ids are their folder names and sort as times);
- minutes: the time between the two cortes, read from their ids (``20270606_211500``, the
  cut's local time in the institute's zone: both in the same zone, so their difference is
  the real one).

A difusor that never received a corte is behind by every published corte and by an unknown
number of minutes (``None``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db.models import Count, Q, Sum

from openprep.difusion.models import Difusor, Entrega, Incidente, Resultado
from openprep.publish.folder import CORTES, read_latest

HISTORIAL = 20
"""Deliveries (and incidents) shown per difusor: the most recent ones."""

_CORTE_ID = re.compile(r"\d{8}_\d{6}")


@dataclass(frozen=True)
class EntregaResumen:
    """One delivery as the board lists it; times in ISO 8601, None while unknown."""

    corte: str
    resultado: str
    inicio: datetime | None
    fin: datetime | None
    segundos: float | None
    archivos: int
    bytes: int
    omitidos: int
    intentos: int
    error: str

    def as_json(self) -> dict[str, Any]:
        datos = asdict(self)
        datos["inicio"] = _iso(self.inicio)
        datos["fin"] = _iso(self.fin)
        return datos


@dataclass(frozen=True)
class IncidenteResumen:
    tipo: str
    tipo_texto: str
    fecha: datetime
    corte: str
    descripcion: str
    usuario: str

    def as_json(self) -> dict[str, Any]:
        datos = asdict(self)
        datos["fecha"] = _iso(self.fecha)
        return datos


@dataclass(frozen=True)
class EstadoDifusor:
    """A difusor's standing now. ``ultimo_corte`` is None before its first delivery;
    ``cortes_atras``/``minutos_atras`` are None when they cannot be told (no corte
    published yet, or nothing delivered for the minutes)."""

    nombre: str
    protocolo: str
    host: str
    habilitado: bool
    fallas_consecutivas: int
    ultimo_corte: str | None
    corte_vigente: str | None
    cortes_atras: int | None
    minutos_atras: int | None
    entregas_ok: int
    entregas_fallidas: int
    entregas_pendientes: int
    bytes_ultima: int | None
    bytes_total: int
    ultimo_error: str | None
    ultimo_error_corte: str | None
    historial: tuple[EntregaResumen, ...]
    incidentes: tuple[IncidenteResumen, ...]

    def as_json(self) -> dict[str, Any]:
        datos = {k: v for k, v in asdict(self).items() if k not in ("historial", "incidentes")}
        datos["historial"] = [e.as_json() for e in self.historial]
        datos["incidentes"] = [i.as_json() for i in self.incidentes]
        return datos


def estado_difusores(*, publicacion: Path) -> list[EstadoDifusor]:
    """Every registered difusor (by name), compared with the publication's current corte."""
    latest = read_latest(publicacion)
    vigente = latest.corte if latest else None
    publicados = cortes_publicados(publicacion)
    totales = {
        fila["difusor"]: fila
        for fila in Entrega.objects.values("difusor").annotate(
            ok=Count("id", filter=Q(resultado=Resultado.ENTREGADA)),
            fallidas=Count("id", filter=Q(resultado=Resultado.FALLIDA)),
            pendientes=Count("id", filter=Q(resultado=Resultado.PENDIENTE)),
            bytes_total=Sum("bytes"),
        )
    }
    estados = []
    for difusor in Difusor.objects.order_by("nombre"):
        ultimo = difusor.ultimo_corte or None
        atras, minutos = atraso(ultimo=ultimo, vigente=vigente, publicados=publicados)
        total = totales.get(difusor.pk, {})
        ultima_ok = (
            difusor.entregas.filter(resultado=Resultado.ENTREGADA)
            .order_by("-fin", "-id")
            .values_list("bytes", flat=True)
            .first()
        )
        con_error = difusor.entregas.exclude(error="").order_by("-id").first()
        estados.append(
            EstadoDifusor(
                nombre=difusor.nombre,
                protocolo=difusor.protocolo,
                host=difusor.host,
                habilitado=difusor.habilitado,
                fallas_consecutivas=difusor.fallas_consecutivas,
                ultimo_corte=ultimo,
                corte_vigente=vigente,
                cortes_atras=atras,
                minutos_atras=minutos,
                entregas_ok=total.get("ok", 0),
                entregas_fallidas=total.get("fallidas", 0),
                entregas_pendientes=total.get("pendientes", 0),
                bytes_ultima=ultima_ok,
                bytes_total=total.get("bytes_total") or 0,
                ultimo_error=con_error.error if con_error else None,
                ultimo_error_corte=con_error.corte if con_error else None,
                historial=tuple(
                    resumen_entrega(e) for e in difusor.entregas.order_by("-id")[:HISTORIAL]
                ),
                incidentes=tuple(
                    _resumen_incidente(i)
                    for i in difusor.incidentes.select_related("usuario").order_by("-fecha", "-id")[
                        :HISTORIAL
                    ]
                ),
            )
        )
    return estados


def cortes_publicados(publicacion: Path) -> list[str]:
    """The ids of the published corte folders, oldest first (partial builds excluded)."""
    carpeta = publicacion / CORTES
    if not carpeta.is_dir():
        return []
    return sorted(p.name for p in carpeta.iterdir() if p.is_dir() and _CORTE_ID.fullmatch(p.name))


def atraso(
    *, ultimo: str | None, vigente: str | None, publicados: list[str]
) -> tuple[int | None, int | None]:
    """(cortes, minutes) a difusor is behind the current corte; see the module docstring."""
    if vigente is None:
        return None, None
    if ultimo == vigente:
        return 0, 0
    cortes = sum(1 for c in publicados if (ultimo is None or c > ultimo) and c <= vigente)
    if vigente not in publicados:  # latest.json names a folder this listing missed
        cortes += 1
    desde, hasta = hora_de_corte(ultimo), hora_de_corte(vigente)
    minutos = None if desde is None or hasta is None else int((hasta - desde).total_seconds() // 60)
    return cortes, minutos


def hora_de_corte(corte: str | None) -> datetime | None:
    """A corte id's local time (naive: the zone is the institute's), or None if not an id."""
    if corte is None or not _CORTE_ID.fullmatch(corte):
        return None
    return datetime.strptime(corte, "%Y%m%d_%H%M%S")


def resumen_entrega(entrega: Entrega) -> EntregaResumen:
    segundos = (
        (entrega.fin - entrega.inicio).total_seconds()
        if entrega.inicio is not None and entrega.fin is not None
        else None
    )
    return EntregaResumen(
        corte=entrega.corte,
        resultado=entrega.resultado,
        inicio=entrega.inicio,
        fin=entrega.fin,
        segundos=segundos,
        archivos=entrega.archivos,
        bytes=entrega.bytes,
        omitidos=entrega.omitidos,
        intentos=entrega.intentos,
        error=entrega.error,
    )


def _resumen_incidente(incidente: Incidente) -> IncidenteResumen:
    return IncidenteResumen(
        tipo=incidente.tipo,
        tipo_texto=incidente.get_tipo_display(),
        fecha=incidente.fecha,
        corte=incidente.corte,
        descripcion=incidente.descripcion,
        usuario=incidente.usuario.get_username() if incidente.usuario else "",
    )


def _iso(momento: datetime | None) -> str | None:
    return momento.isoformat() if momento is not None else None
