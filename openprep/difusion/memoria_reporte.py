"""The memoria técnica as files: one HTML report and the CSV tables behind it.

Seed 001, section VI: access logs of the publication servers, the incidents that
affected the publication, and visits/pages/hits. The traffic comes from
:mod:`openprep.difusion.memoria`; deliveries and incidents from the database. Files:

- ``memoria.html``: self-contained (inline style and SVG charts, no script, no links
  to fetch), so it can be archived and mailed as one file;
- ``visitas_por_hora.csv``: hora, visitas, paginas, hits, bytes, visitantes;
- ``entregas.csv``: one row per delivery of a corte to a difusor;
- ``incidentes.csv``: suspensions and re-enablings, oldest first;
- ``difusores.csv``: per difusor totals.

A delivery is **on time** when it was delivered and finished no later than ``plazo``
minutes (15 by default, the update period of seed 001) after the corte's time, read from
the corte id in the institute's time zone (the catalog's; the console's when the catalog
is empty). Its percentage is over the deliveries that ended, delivered or failed; the
mean and maximum durations are of the delivered ones.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from django.template.loader import render_to_string
from django.utils import timezone

from openprep.catalog.models import Eleccion
from openprep.catalog.services import zona_horaria
from openprep.coordinacion.charts import barras
from openprep.core.model import utc_offset_name
from openprep.difusion.estado import hora_de_corte
from openprep.difusion.memoria import Memoria, Trafico
from openprep.difusion.models import Entrega, Incidente, Resultado

PLAZO_MINUTOS = 15

ARCHIVOS = ("memoria.html", "visitas_por_hora.csv", "entregas.csv", "incidentes.csv",
            "difusores.csv")  # fmt: skip


@dataclass(frozen=True)
class FilaEntrega:
    difusor: str
    corte: str
    inicio: datetime | None
    fin: datetime | None
    segundos: float | None
    bytes: int
    archivos: int
    omitidos: int
    resultado: str
    intentos: int
    error: str
    a_tiempo: bool


@dataclass(frozen=True)
class TotalDifusor:
    difusor: str
    entregadas: int
    fallidas: int
    pendientes: int
    bytes: int
    segundos_promedio: float | None
    segundos_maximo: float | None
    a_tiempo: int

    @property
    def porcentaje_a_tiempo(self) -> float | None:
        terminadas = self.entregadas + self.fallidas
        return 100 * self.a_tiempo / terminadas if terminadas else None


def zona_de_los_cortes() -> tzinfo:
    """The zone corte ids are written in: the catalog's, as the corte builder uses."""
    zona = Eleccion.objects.order_by("id").values_list("zona_horaria", flat=True).first()
    return zona_horaria(zona) if zona else timezone.get_default_timezone()


def filas_entregas(
    *, desde: datetime | None, hasta: datetime | None, plazo: timedelta, tz: tzinfo
) -> list[FilaEntrega]:
    """Every delivery started in the period (all of them without one), by difusor and corte."""
    entregas = Entrega.objects.select_related("difusor").order_by("difusor__nombre", "corte", "id")
    if desde is not None:
        entregas = entregas.filter(inicio__gte=desde)
    if hasta is not None:
        entregas = entregas.filter(inicio__lt=hasta)
    filas = []
    for e in entregas:
        segundos = (e.fin - e.inicio).total_seconds() if e.inicio and e.fin else None
        hora = hora_de_corte(e.corte)
        a_tiempo = (
            e.resultado == Resultado.ENTREGADA
            and e.fin is not None
            and hora is not None
            and e.fin <= hora.replace(tzinfo=tz) + plazo
        )
        filas.append(
            FilaEntrega(
                difusor=e.difusor.nombre,
                corte=e.corte,
                inicio=e.inicio,
                fin=e.fin,
                segundos=segundos,
                bytes=e.bytes,
                archivos=e.archivos,
                omitidos=e.omitidos,
                resultado=e.resultado,
                intentos=e.intentos,
                error=e.error,
                a_tiempo=a_tiempo,
            )
        )
    return filas


def totales_por_difusor(filas: Iterable[FilaEntrega]) -> list[TotalDifusor]:
    por_difusor: dict[str, list[FilaEntrega]] = {}
    for fila in filas:
        por_difusor.setdefault(fila.difusor, []).append(fila)
    totales = []
    for difusor, suyas in sorted(por_difusor.items()):
        duraciones = [
            f.segundos
            for f in suyas
            if f.resultado == Resultado.ENTREGADA and f.segundos is not None
        ]
        totales.append(
            TotalDifusor(
                difusor=difusor,
                entregadas=sum(f.resultado == Resultado.ENTREGADA for f in suyas),
                fallidas=sum(f.resultado == Resultado.FALLIDA for f in suyas),
                pendientes=sum(f.resultado == Resultado.PENDIENTE for f in suyas),
                bytes=sum(f.bytes for f in suyas),
                segundos_promedio=sum(duraciones) / len(duraciones) if duraciones else None,
                segundos_maximo=max(duraciones) if duraciones else None,
                a_tiempo=sum(f.a_tiempo for f in suyas),
            )
        )
    return totales


def incidentes(*, desde: datetime | None, hasta: datetime | None) -> list[Incidente]:
    filas = Incidente.objects.select_related("difusor", "usuario").order_by("fecha", "id")
    if desde is not None:
        filas = filas.filter(fecha__gte=desde)
    if hasta is not None:
        filas = filas.filter(fecha__lt=hasta)
    return list(filas)


def escribir_memoria(
    salida: Path,
    *,
    memoria: Memoria,
    registros: list[Path],
    desde: datetime | None,
    hasta: datetime | None,
    plazo: timedelta = timedelta(minutes=PLAZO_MINUTOS),
) -> list[Path]:
    """Write the report's files into ``salida`` (created if needed); their paths."""
    salida.mkdir(parents=True, exist_ok=True)
    entregas = filas_entregas(desde=desde, hasta=hasta, plazo=plazo, tz=zona_de_los_cortes())
    totales = totales_por_difusor(entregas)
    eventos = incidentes(desde=desde, hasta=hasta)
    _csv(
        salida / "visitas_por_hora.csv",
        ["hora", "visitas", "paginas", "hits", "bytes", "visitantes"],
        (
            [h.inicio.isoformat(), h.visitas, h.paginas, h.hits, h.bytes, h.visitantes]
            for h in memoria.periodo.horas
        ),
    )
    _csv(
        salida / "entregas.csv",
        [
            "difusor",
            "corte",
            "inicio",
            "fin",
            "segundos",
            "bytes",
            "archivos",
            "omitidos",
            "resultado",
            "intentos",
            "error",
            "a_tiempo",
        ],
        (
            [
                f.difusor,
                f.corte,
                _iso(f.inicio),
                _iso(f.fin),
                _num(f.segundos),
                f.bytes,
                f.archivos,
                f.omitidos,
                f.resultado,
                f.intentos,
                f.error,
                "si" if f.a_tiempo else "no",
            ]
            for f in entregas
        ),
    )
    _csv(
        salida / "incidentes.csv",
        ["difusor", "fecha", "tipo", "corte", "descripcion", "usuario"],
        (
            [
                i.difusor.nombre,
                _iso(i.fecha),
                i.tipo,
                i.corte,
                i.descripcion,
                i.usuario.get_username() if i.usuario else "",
            ]
            for i in eventos
        ),
    )
    _csv(
        salida / "difusores.csv",
        ["difusor", "entregas_ok", "entregas_fallidas", "entregas_pendientes", "bytes",
         "segundos_promedio", "segundos_maximo", "entregas_a_tiempo", "porcentaje_a_tiempo"],
        (
            [t.difusor, t.entregadas, t.fallidas, t.pendientes, t.bytes,
             _num(t.segundos_promedio), _num(t.segundos_maximo), t.a_tiempo,
             _num(t.porcentaje_a_tiempo)]
            for t in totales
        ),
    )  # fmt: skip
    html = render_to_string(
        "difusion/memoria.html",
        {
            "generado": _hora(timezone.now()),
            "desde": _hora(desde) if desde else None,
            "hasta": _hora(hasta) if hasta else None,
            "registros": [str(r) for r in registros],
            "memoria": memoria,
            "p": memoria.periodo,
            "comparativo": _comparativo(memoria.periodo, memoria.fuera),
            "graficas": _graficas(memoria.periodo),
            "entregas": [
                {"f": f, "inicio": _hora(f.inicio), "fin": _hora(f.fin)} for f in entregas
            ],
            "totales": totales,
            "incidentes": [{"i": i, "fecha": _hora(i.fecha)} for i in eventos],
            "plazo": int(plazo.total_seconds() // 60),
        },
    )
    (salida / "memoria.html").write_text(html, encoding="utf-8")
    return [salida / nombre for nombre in ARCHIVOS]


def _comparativo(periodo: Trafico, fuera: Trafico) -> list[dict[str, object]]:
    dentro = periodo.promedio_por_hora()
    afuera = fuera.promedio_por_hora() if fuera.horas else None
    return [
        {
            "medida": medida,
            "periodo": dentro[i],
            "fuera": afuera[i] if afuera else None,
            "razon": dentro[i] / afuera[i] if afuera and afuera[i] else None,
        }
        for i, medida in enumerate(("Visitas", "Páginas", "Hits"))
    ]


def _graficas(trafico: Trafico) -> list[object]:
    graficas = []
    for campo, titulo in (("visitas", "Visitas"), ("paginas", "Páginas"), ("hits", "Hits")):
        datos = [(f"{h.inicio:%d %H}h", int(getattr(h, campo))) for h in trafico.horas]
        graficas.append(
            barras(
                datos,
                id_svg=f"grafica-{campo}",
                titulo=f"{titulo} por hora",
                descripcion=(
                    f"{titulo} por hora, del día y hora del registro: "
                    + ", ".join(f"{e}: {v}" for e, v in datos)
                    if datos
                    else "Sin registros en el periodo."
                ),
            )
        )
    return graficas


def _csv(ruta: Path, encabezado: list[str], filas: Iterable[list[object]]) -> None:
    with ruta.open("w", encoding="utf-8", newline="") as archivo:
        escritor = csv.writer(archivo, lineterminator="\n")
        escritor.writerow(encabezado)
        escritor.writerows(filas)


def _iso(momento: datetime | None) -> str:
    return timezone.localtime(momento).isoformat() if momento is not None else ""


def _num(valor: float | None) -> str:
    return "" if valor is None else f"{valor:.1f}"


def _hora(momento: datetime | None) -> str:
    if momento is None:
        return ""
    local = timezone.localtime(momento)
    return f"{local:%Y-%m-%d %H:%M:%S} ({utc_offset_name(local.utcoffset() or timedelta(0))})"
