"""The coordinator's screens: the dashboard, SIN ACTA, and one election's PREP database."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, tzinfo

from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods

from openprep.accounts.access import operador_de, roles
from openprep.accounts.models import Rol
from openprep.catalog.models import ActaEsperada, Eleccion
from openprep.coordinacion import metrics
from openprep.coordinacion.alcance import alcance_de
from openprep.coordinacion.charts import barras
from openprep.core.errors import UserError
from openprep.core.model import MotivoSinActa, utc_offset_name
from openprep.intake.services import eleccion_de_clave, registrar_sin_acta
from openprep.publish.corte import nombre_base, rule_settings_de, write_corte_database
from openprep.web import wants_json

MINUTOS_DETENIDA = 30
MOTIVOS = {
    MotivoSinActa.PAQUETE_NO_ENTREGADO: "Paquete no entregado",
    MotivoSinActa.CASILLA_NO_INSTALADA: "Casilla no instalada",
    MotivoSinActa.PAQUETE_SIN_SOBRE: "Paquete entregado sin sobre",
    MotivoSinActa.CONTINGENCIA: "Sin acta por contingencia (urna electrónica)",
}
MECANISMOS = {
    "": "Ninguno (entrega directa en la CATD)",
    "D": "D – Dispositivo de apoyo para el traslado",
    "F": "F – Centro de recepción y traslado fijo",
    "I": "I – Centro de recepción y traslado itinerante",
}
ESTADOS = {
    "ESPERADA": "Esperada",
    "ACOPIADA": "Acopiada",
    "DIGITALIZADA": "Digitalizada",
    "CAPTURADA": "Capturada",
    "VERIFICADA": "Verificada",
    "SIN ACTA": "SIN ACTA sin confirmar",
}


class CoordinacionError(UserError):
    """A coordinator's request that cannot be done as asked."""


class FueraDeSuCATD(CoordinacionError):
    http_status = 403


class EleccionDesconocida(CoordinacionError):
    http_status = 404


@roles(Rol.COORDINADOR)
@require_GET
def tablero(request: HttpRequest) -> HttpResponse:
    """``GET /coordinacion/``: the figures of the CATDs the coordinator supervises.

    ``?minutos=N`` (default 30): an acta is stuck when its last event is older than N
    minutes and it is not verified. With ``Accept: application/json`` the answer is::

        {"generado": ISO time of the figures, "minutos": N,
         "elecciones": [{"clave", "nombre"}],
         "catds": [{"clave" (null: actas with no CATD), "nombre",
                    "avance": {ELECCION: AVANCE}, "colas": COLAS}],
         "total": {"avance": {ELECCION: AVANCE}, "colas": COLAS},
         "verificadas_por_hora": [{"hora": ISO start of the hour, "actas"}],
         "detenidas": {"total", "actas": [{"clave_acta", "eleccion", "estado", "desde",
                                            "catd", "imagen"}]},
         "inconsistencias": {"EXCEDE_LISTA_NOMINAL", "TODOS_ILEGIBLES_O_SIN_DATO",
                             "ALGUN_DATO_ILEGIBLE_O_SIN_DATO", "SIN_ACTA_<MOTIVO>" …,
                             "FUERA_CATALOGO"}}

    AVANCE = {"esperadas", "acopiadas", "digitalizadas", "capturadas", "verificadas",
    "contabilizadas", "sin_acta", "fuera_catalogo"}: each acta counts in every step it
    has reached (acopio recorded, image, first capture or SIN ACTA, verified);
    contabilizadas as the core's rules decide. COLAS = {"captura" (image, not SIN ACTA,
    fewer than two captures, not verified), "cotejo" (two disagreeing captures, not
    verified), "sin_acta" (SIN ACTA awaiting confirmation)}. The observations of the
    rules count verified actas; SIN ACTA and fuera de catálogo count every registered one.
    """
    minutos = _minutos(request.GET.get("minutos"))
    figures = metrics.figures(request.user, ahora=timezone.now(), minutos=minutos)
    if wants_json(request):
        return JsonResponse(metrics.as_json(figures))
    return render(request, "coordinacion/tablero.html", _contexto_tablero(figures))


def _minutos(texto: str | None) -> int:
    if texto is None or texto == "":
        return MINUTOS_DETENIDA
    if not (texto.isascii() and texto.isdigit()) or not 1 <= int(texto) <= 24 * 60:
        raise CoordinacionError(
            f"minutos={texto!r} no es válido.",
            where="parámetro minutos",
            hint="Escriba un número entero de minutos entre 1 y 1440.",
        )
    return int(texto)


def _contexto_tablero(figures: metrics.Figures) -> dict[str, object]:
    elecciones = [
        {
            "eleccion": eleccion,
            "filas": [
                (nombre, figures.avance_de(catd=clave, eleccion=eleccion.pk))
                for clave, nombre in figures.catds
            ],
            "total": figures.avance_de(eleccion=eleccion.pk),
            "clave": metrics.clave_eleccion(eleccion),
        }
        for eleccion in figures.elecciones
    ]
    por_hora = [(f"{hora:%H:%M}", n) for hora, n in figures.por_hora]
    grafica = barras(
        por_hora,
        id_svg="verificadas-por-hora",
        titulo="Actas verificadas por hora",
        descripcion=(
            "Barras por hora: " + ", ".join(f"{h}: {n}" for h, n in por_hora)
            if por_hora
            else "Aún no hay actas verificadas."
        ),
    )
    nombres = dict(figures.catds)
    return {
        "figures": figures,
        "generado": _hora(figures.generado, figures.tz),
        "generado_iso": figures.generado.astimezone(figures.tz).isoformat(),
        "por_hora": por_hora,
        "elecciones": elecciones,
        "colas": [
            (nombre, figures.colas.get(clave, metrics.Colas())) for clave, nombre in figures.catds
        ],
        "colas_total": figures.colas_total(),
        "grafica": grafica,
        "detenidas": [
            {
                "acta": a,
                "estado": ESTADOS.get(a.estado, a.estado),
                "desde": _hora(a.desde, figures.tz),
                "catd": nombres.get(a.catd, a.catd or "Sin CATD"),
            }
            for a in figures.detenidas
        ],
        "inconsistencias": [
            (etiqueta, figures.inconsistencias.get(codigo, 0))
            for codigo, etiqueta in metrics.ETIQUETAS_INCONSISTENCIA.items()
        ],
    }


def _hora(momento: datetime, tz: tzinfo) -> str:
    """A moment in the institute's time, with its offset: 2027-06-06 21:03:05 (UTC-5)."""
    local = momento.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M:%S} ({utc_offset_name(local.utcoffset() or timedelta(0))})"


@roles(Rol.COORDINADOR)
@require_http_methods(["GET", "POST"])
def sin_acta(request: HttpRequest) -> HttpResponse:
    """``/coordinacion/sin-acta/``: mark an acta SIN ACTA (DOMAIN.md §4, rule 1).

    POST ``clave_acta``, ``motivo`` (a :class:`MotivoSinActa`), ``mecanismo_traslado``;
    answers 201 ``{"clave_acta", "estado"}``. Only for a casilla of a CATD the coordinator
    supervises (or of none); verification then confirms it, as any capture.
    """
    contexto: dict[str, object] = {"motivos": MOTIVOS, "mecanismos": MECANISMOS}
    if request.method == "GET":
        return render(request, "coordinacion/sin_acta.html", contexto)
    operador = operador_de(request.user)
    assert operador is not None and operador.catd is not None  # @roles; a coordinator's CATD
    clave_acta = request.POST.get("clave_acta", "").strip().upper()
    motivo = _motivo(request.POST.get("motivo", ""))
    eleccion = eleccion_de_clave(clave_acta)
    esperada = (
        ActaEsperada.objects.filter(eleccion=eleccion, clave_acta=clave_acta)
        .select_related("casilla__catd")
        .first()
    )
    catd = esperada.casilla.catd if esperada is not None else None
    if catd is not None and not alcance_de(request.user).puede_ver(catd.clave):
        raise FueraDeSuCATD(
            f"el acta {clave_acta} es de una casilla de la CATD {catd}, que usted no supervisa.",
            hint="Pida a un coordinador de esa CATD que registre el SIN ACTA.",
        )
    acta = registrar_sin_acta(
        eleccion=eleccion,
        clave_acta=clave_acta,
        motivo=motivo,
        usuario=request.user,
        catd=operador.catd.clave,
        cuando=timezone.now(),
        mecanismo_traslado=request.POST.get("mecanismo_traslado", "").strip().upper(),
    )
    respuesta = {"clave_acta": acta.clave_acta, "estado": acta.estado}
    if wants_json(request):
        return JsonResponse(respuesta, status=201)
    contexto["registrada"] = {**respuesta, "motivo": MOTIVOS[motivo]}
    return render(request, "coordinacion/sin_acta.html", contexto, status=201)


def _motivo(texto: str) -> MotivoSinActa:
    try:
        return MotivoSinActa(texto.strip().upper())
    except ValueError:
        raise CoordinacionError(
            f"el motivo {texto!r} no es válido.",
            where="campo motivo",
            hint="Motivos: " + ", ".join(f"{m.value} ({e})" for m, e in MOTIVOS.items()) + ".",
        ) from None


@roles(Rol.COORDINADOR, Rol.ADMINISTRADOR)
@require_GET
def base_csv(request: HttpRequest, clave_eleccion: str) -> HttpResponse:
    """``GET /coordinacion/base/<clave_eleccion>.csv``: the election's PREP database now.

    Every verified acta, written by the corte writer (reference layout). Only for a
    coordinator of every CATD or an administrador: it holds every CATD's actas.
    """
    operador = operador_de(request.user)
    assert operador is not None  # @roles
    if operador.rol == Rol.COORDINADOR and not operador.todas_las_catd:
        raise FueraDeSuCATD(
            "la base de datos de una elección incluye las actas de todas las CATD y usted "
            "no las supervisa todas.",
            hint="La descargan un coordinador con todas las CATD o un administrador.",
        )
    eleccion = (
        Eleccion.objects.select_related("proceso")
        .filter(Q(clave=clave_eleccion) | Q(clave="", nombre=clave_eleccion))
        .order_by("-id")
        .first()
    )
    if eleccion is None:
        raise EleccionDesconocida(
            f"no hay una elección con clave {clave_eleccion!r}.",
            hint="Use la clave de elecciones.csv del paquete electoral, p. ej. DIP.",
        )
    ahora = timezone.now()
    out = io.StringIO()
    write_corte_database(
        eleccion, hasta=ahora, out=out, settings=rule_settings_de(eleccion, hasta=ahora)
    )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=nombre_base(eleccion)
    )
    return response
