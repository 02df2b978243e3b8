"""Capture, verification (cotejo) and correction screens, which are also the JSON API
(docs/api.md): ``Accept: application/json`` gets JSON, a browser gets the page.

Browser forms follow post/redirect/get: after a capture or a cotejo the next acta is
claimed and the screen shows it. Nothing a capturista receives holds another capture's
values (double-blind); a verificador sees both captures of the differing fields only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openprep.accounts.access import operador_de, roles
from openprep.accounts.models import Rol
from openprep.capture import queue
from openprep.capture.cotejo import (
    corregir,
    desacuerdo,
    revisar_corregible,
    revisar_visibilidad,
)
from openprep.capture.models import Asignacion, Tarea
from openprep.capture.services import (
    ActaNoEncontrada,
    CaptureError,
    campos_del_acta,
)
from openprep.core.errors import UserError
from openprep.core.model import CONTROL_FIELDS, TipoContendiente, classify_contender
from openprep.intake.models import Acta, Estado
from openprep.web import wants_json

ETIQUETAS = {
    "TOTAL_BOLETAS_SOBRANTES": "Boletas sobrantes",
    "TOTAL_PERSONAS_VOTARON": "Personas que votaron",
    "TOTAL_REP_PARTIDO_CI_VOTARON": (
        "Representantes de partidos y de candidaturas independientes que votaron"
    ),
    "TOTAL_VOTOS_SACADOS": "Votos sacados de la urna",
    "NO_REGISTRADOS": "Candidaturas no registradas",
    "NULOS": "Votos nulos",
    "TOTAL_VOTOS_ASENTADO": "Total de votos asentado en el acta",
}
_TIPOS = {
    TipoContendiente.COALICION: "coalición",
    TipoContendiente.CANDIDATURA_COMUN: "candidatura común",
    TipoContendiente.CANDIDATURA_INDEPENDIENTE: "candidatura independiente",
}
_NO_CAMPOS = {"csrfmiddlewaretoken", "siguiente"}


def etiqueta(campo: str) -> str:
    """A field's Spanish label: the control figures and totals spelled out, contenders by
    their key (with their kind when not a party)."""
    if campo in ETIQUETAS:
        return ETIQUETAS[campo]
    tipo = _TIPOS.get(classify_contender(campo))
    return f"{campo} ({tipo})" if tipo else campo


def _catd(request: HttpRequest) -> str:
    operador = operador_de(request.user)
    return operador.catd.clave if operador is not None and operador.catd_id else ""


def _datos(post: QueryDict) -> dict[str, str]:
    return {k: v for k, v in post.items() if k not in _NO_CAMPOS}


def _imagen(acta: Acta) -> str | None:
    return f"/imagenes/{acta.imagen_id}/" if acta.imagen_id else None


_PANTALLAS = {Tarea.CAPTURA: "/captura/", Tarea.VERIFICACION: "/verificacion/"}


def _siguiente_y_mostrar(request: HttpRequest, tarea: Tarea) -> HttpResponse:
    """Browser forms: claim the next acta, then show it on the task's screen (PRG)."""
    asignacion = queue.siguiente(usuario=request.user, tarea=tarea, ahora=timezone.now())
    pantalla = _PANTALLAS[tarea]
    return redirect(pantalla if asignacion else f"{pantalla}?vacia=1")


# --- captura -------------------------------------------------------------------------------


def _payload_captura(asignacion: Asignacion) -> dict[str, Any]:
    acta = asignacion.acta
    return {
        "clave_acta": acta.clave_acta,
        "eleccion": acta.eleccion.etiqueta,
        "campos": list(campos_del_acta(acta)),
        "imagen": _imagen(acta),
        "asignada_hasta": timezone.localtime(asignacion.hasta).isoformat(),
    }


def _asignacion_vigente(request: HttpRequest, tarea: Tarea) -> Asignacion | None:
    return (
        Asignacion.objects.select_related("acta__eleccion", "acta__esperada")
        .filter(usuario=request.user, tarea=tarea)
        .first()
    )


def _pantalla_captura(
    request: HttpRequest,
    asignacion: Asignacion | None,
    *,
    error: UserError | None = None,
    valores: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    campos = []
    if asignacion is not None:
        nombres = campos_del_acta(asignacion.acta)
        campos = [
            {
                "nombre": c,
                "etiqueta": etiqueta(c),
                "valor": (valores or {}).get(c, ""),
                "control": c in CONTROL_FIELDS,
            }
            for c in nombres
        ]
    return render(
        request,
        "capture/captura.html",
        {
            "asignacion": asignacion,
            "imagen": _imagen(asignacion.acta) if asignacion else None,
            "campos": campos,
            "error": error,
            "vacia": request.GET.get("vacia") == "1",
        },
        status=status,
    )


@roles(Rol.CAPTURISTA)
@require_GET
def captura(request: HttpRequest) -> HttpResponse:
    """``GET /captura/``: the acta this capturista holds, beside its fields."""
    asignacion = _asignacion_vigente(request, Tarea.CAPTURA)
    if wants_json(request):
        if asignacion is None:
            return HttpResponse(status=204)
        return JsonResponse(_payload_captura(asignacion))
    return _pantalla_captura(request, asignacion)


@roles(Rol.CAPTURISTA)
@require_POST
def captura_siguiente(request: HttpRequest) -> HttpResponse:
    """``POST /captura/siguiente/``: claim the next acta to capture."""
    if not wants_json(request):
        return _siguiente_y_mostrar(request, Tarea.CAPTURA)
    asignacion = queue.siguiente(usuario=request.user, tarea=Tarea.CAPTURA, ahora=timezone.now())
    if asignacion is None:
        return HttpResponse(status=204)
    return JsonResponse(_payload_captura(asignacion))


@roles(Rol.CAPTURISTA)
@require_POST
def capturar(request: HttpRequest, clave_acta: str) -> HttpResponse:
    """``POST /captura/<clave_acta>/``: the capture of the acta this capturista holds."""
    valores = _datos(request.POST)
    try:
        acta, resultado = queue.capturar_asignada(
            usuario=request.user,
            clave_acta=clave_acta,
            valores=valores,
            cuando=timezone.now(),
            catd=_catd(request),
        )
    except CaptureError as exc:
        if wants_json(request) or getattr(exc, "http_status", 400) != 400:
            raise
        # A typing mistake: the same acta again, with what was typed and what is wrong.
        asignacion = _asignacion_vigente(request, Tarea.CAPTURA)
        return _pantalla_captura(request, asignacion, error=exc, valores=valores, status=400)
    estado = Estado.VERIFICADA if resultado == "VERIFICADA" else Estado.CAPTURADA
    if wants_json(request):
        respuesta: dict[str, Any] = {
            "clave_acta": acta.clave_acta,
            "estado": estado,
            "resultado": resultado,
        }
        if request.POST.get("siguiente") == "1":
            # One round trip per acta: the next one is claimed in the same request.
            asignacion = queue.siguiente(
                usuario=request.user, tarea=Tarea.CAPTURA, ahora=timezone.now()
            )
            respuesta["siguiente"] = _payload_captura(asignacion) if asignacion else None
        return JsonResponse(respuesta, status=201)
    messages.success(request, f"Acta {acta.clave_acta} capturada.")
    return _siguiente_y_mostrar(request, Tarea.CAPTURA)


@roles(Rol.CAPTURISTA)
@require_POST
def liberar_captura(request: HttpRequest, clave_acta: str) -> HttpResponse:
    """``POST /captura/<clave_acta>/liberar/``: give the acta back to the queue."""
    acta = queue.liberar(usuario=request.user, clave_acta=clave_acta, tarea=Tarea.CAPTURA)
    if wants_json(request):
        return JsonResponse({"clave_acta": acta.clave_acta, "estado": acta.estado})
    messages.info(request, f"El acta {acta.clave_acta} regresó a la cola.")
    return redirect("/captura/")


# --- verificación y cotejo ----------------------------------------------------------------


def _payload_verificacion(asignacion: Asignacion) -> dict[str, Any]:
    acta = asignacion.acta
    pendiente = desacuerdo(acta) if not acta.motivo_sin_acta else None
    return {
        "clave_acta": acta.clave_acta,
        "eleccion": acta.eleccion.etiqueta,
        "tipo": "SIN_ACTA" if acta.motivo_sin_acta else "COTEJO",
        "campos": list(pendiente.campos) if pendiente else [],
        "capturas": list(pendiente.capturas) if pendiente else [],
        "motivo": acta.motivo_sin_acta,
        "imagen": _imagen(acta),
        "asignada_hasta": timezone.localtime(asignacion.hasta).isoformat(),
    }


@roles(Rol.VERIFICADOR)
@require_GET
def verificacion(request: HttpRequest) -> HttpResponse:
    """``GET /verificacion/``: the acta this verificador holds (cotejo or SIN ACTA)."""
    asignacion = _asignacion_vigente(request, Tarea.VERIFICACION)
    payload = _payload_verificacion(asignacion) if asignacion else None
    if wants_json(request):
        return JsonResponse(payload) if payload else HttpResponse(status=204)
    filas = []
    if payload and payload["tipo"] == "COTEJO":
        primera, segunda = payload["capturas"]
        filas = [
            {"nombre": c, "etiqueta": etiqueta(c), "primera": primera[c], "segunda": segunda[c]}
            for c in payload["campos"]
        ]
    return render(
        request,
        "capture/verificacion.html",
        {"p": payload, "filas": filas, "vacia": request.GET.get("vacia") == "1"},
    )


@roles(Rol.VERIFICADOR)
@require_POST
def verificacion_siguiente(request: HttpRequest) -> HttpResponse:
    """``POST /verificacion/siguiente/``: claim the next acta to cotejar or confirm."""
    if not wants_json(request):
        return _siguiente_y_mostrar(request, Tarea.VERIFICACION)
    asignacion = queue.siguiente(
        usuario=request.user, tarea=Tarea.VERIFICACION, ahora=timezone.now()
    )
    if asignacion is None:
        return HttpResponse(status=204)
    return JsonResponse(_payload_verificacion(asignacion))


@roles(Rol.VERIFICADOR)
@require_POST
def verificar(request: HttpRequest, clave_acta: str) -> HttpResponse:
    """``POST /verificacion/<clave_acta>/``: the differing fields decided, or SIN ACTA
    confirmed (``confirmar=1``)."""
    acta = queue.verificar_asignada(
        usuario=request.user,
        clave_acta=clave_acta,
        datos=_datos(request.POST),
        cuando=timezone.now(),
        catd=_catd(request),
    )
    if wants_json(request):
        return JsonResponse({"clave_acta": acta.clave_acta, "estado": acta.estado})
    messages.success(request, f"Acta {acta.clave_acta} verificada.")
    return _siguiente_y_mostrar(request, Tarea.VERIFICACION)


@roles(Rol.VERIFICADOR)
@require_POST
def liberar_verificacion(request: HttpRequest, clave_acta: str) -> HttpResponse:
    """``POST /verificacion/<clave_acta>/liberar/``: give the acta back to the queue."""
    acta = queue.liberar(usuario=request.user, clave_acta=clave_acta, tarea=Tarea.VERIFICACION)
    if wants_json(request):
        return JsonResponse({"clave_acta": acta.clave_acta, "estado": acta.estado})
    messages.info(request, f"El acta {acta.clave_acta} regresó a la cola.")
    return redirect("/verificacion/")


# --- corrección ----------------------------------------------------------------------------


def _acta_por_clave(clave_acta: str) -> Acta:
    clave = clave_acta.strip().upper()
    actas = list(
        Acta.objects.filter(clave_acta=clave).select_related("eleccion", "esperada__casilla__catd")[
            :2
        ]
    )
    if not actas:
        raise ActaNoEncontrada(
            f"no hay un acta registrada con la CLAVE_ACTA {clave}.",
            hint="Revise la clave.",
        )
    if len(actas) > 1:
        raise CaptureError(
            f"la CLAVE_ACTA {clave} está registrada en más de una elección.",
            hint="Corríjala desde la administración, indicando la elección.",
        )
    return actas[0]


@roles(Rol.COORDINADOR)
@require_http_methods(["GET", "POST"])
def correccion(request: HttpRequest, clave_acta: str) -> HttpResponse:
    """``/coordinacion/correccion/<clave_acta>/``: a verified acta's values corrected by a
    coordinator of its CATD, with a reason (GET: the form with the image and values)."""
    acta = _acta_por_clave(clave_acta)
    if request.method == "POST":
        datos = _datos(request.POST)
        motivo = datos.pop("motivo", "")
        acta, cambiados = corregir(
            acta=acta,
            usuario=request.user,
            valores=datos,
            motivo=motivo,
            cuando=timezone.now(),
            catd=_catd(request),
        )
        if wants_json(request):
            return JsonResponse(
                {"clave_acta": acta.clave_acta, "estado": acta.estado, "campos": list(cambiados)}
            )
        messages.success(request, f"Acta {acta.clave_acta}: corregidos {', '.join(cambiados)}.")
        return redirect(request.path)
    revisar_visibilidad(request.user, acta)
    revisar_corregible(acta)
    campos = [
        {"nombre": c, "etiqueta": etiqueta(c), "valor": acta.valores.get(c, "")}
        for c in campos_del_acta(acta)
    ]
    if wants_json(request):
        return JsonResponse(
            {
                "clave_acta": acta.clave_acta,
                "estado": acta.estado,
                "valores": {c["nombre"]: c["valor"] for c in campos},
                "imagen": _imagen(acta),
            }
        )
    return render(
        request,
        "capture/correccion.html",
        {"acta": acta, "campos": campos, "imagen": _imagen(acta)},
    )
