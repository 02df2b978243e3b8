"""Acopio and digitalización screens, and the operators' view of a stored image.

Each screen is also the API of docs/api.md: a client sending ``Accept: application/json``
gets JSON (201 for what it recorded); a browser gets the page, and after a POST a
redirect back with a message (post/redirect/get). A refused POST from a browser shows the
same screen with the reason and the form ready for the next try, with the status of the
refusal (400, 409, 413); a JSON client gets the usual error body from
:mod:`openprep.web`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from openprep.accounts.access import operador_de, roles
from openprep.accounts.models import Rol
from openprep.core.errors import UserError
from openprep.intake.images import (
    FORMATOS_ACEPTADOS,
    ImagenNoValida,
    comprobar_tamano,
    identificar_acta,
    leer_imagen,
    tipo_de_contenido,
)
from openprep.intake.models import Acta, EventoActa, Imagen, TipoEvento
from openprep.intake.services import (
    SHA256_HEX,
    TIPOS_DOCUMENTO,
    Digitalizacion,
    IntakeError,
    eleccion_de_clave,
    hora_local,
    recibir_imagen,
    registrar_acopio,
)
from openprep.web import wants_json

ULTIMOS = 20  # recent work listed under each form
MECANISMOS = (
    ("D", "D – Dispositivo de apoyo para el traslado (DAT)"),
    ("F", "F – Funcionario de casilla"),
    ("I", "I – Itinerante (CAE)"),
    ("", "Sin especificar"),
)
_MECANISMO_SESION = "acopio_mecanismo"
# Room for the multipart envelope and the form's text fields around the image.
_MARGEN_SOLICITUD = 64 * 1024
INMUTABLE = "private, max-age=31536000, immutable"


class ImagenNoEncontrada(IntakeError):
    http_status = 404


# --- acopio ------------------------------------------------------------------------------


@roles(Rol.ACOPIADOR)
@require_http_methods(["GET", "POST"])
def acopio(request: HttpRequest) -> HttpResponse:
    """``/acopio/``: register an acta's arrival at the operator's CATD."""
    if request.method == "GET":
        return _pagina_acopio(request)
    try:
        acta = _acopiar(request)
    except UserError as exc:
        if wants_json(request):
            raise
        return _pagina_acopio(request, error=exc, clave=request.POST.get("clave_acta", ""))
    if wants_json(request):
        return JsonResponse(respuesta_acopio(acta), status=201)
    request.session[_MECANISMO_SESION] = acta.mecanismo_traslado
    if acta.fuera_catalogo:
        messages.warning(
            request,
            f"Acta {acta.clave_acta} registrada FUERA DE CATÁLOGO: su clave no corresponde a "
            f"ninguna acta esperada de {acta.eleccion.nombre}. Compruebe la clave en el acta; "
            "si es correcta, avise al coordinador.",
        )
    else:
        messages.success(request, f"Acopio registrado: acta {acta.clave_acta}.")
    return redirect("acopio")


def _acopiar(request: HttpRequest) -> Acta:
    clave = request.POST.get("clave_acta", "").strip().upper()
    eleccion = eleccion_de_clave(clave)
    return registrar_acopio(
        eleccion=eleccion,
        clave_acta=clave,
        usuario=request.user,  # type: ignore[arg-type]
        catd=_catd(request),
        cuando=timezone.now(),
        mecanismo_traslado=request.POST.get("mecanismo_traslado", "").strip().upper(),
    )


def respuesta_acopio(acta: Acta) -> dict[str, Any]:
    assert acta.fecha_hora_acopio is not None
    return {
        "clave_acta": acta.clave_acta,
        "eleccion": acta.eleccion.etiqueta,
        "estado": acta.estado,
        "fecha_hora_acopio": hora_local(acta.fecha_hora_acopio, acta.eleccion).isoformat(),
        "fuera_catalogo": acta.fuera_catalogo,
    }


def _pagina_acopio(
    request: HttpRequest, *, error: UserError | None = None, clave: str = ""
) -> HttpResponse:
    eventos = _ultimos(request, TipoEvento.ACOPIO)
    contexto = {
        "operador": operador_de(request.user),
        "mecanismos": MECANISMOS,
        "mecanismo": request.POST.get("mecanismo_traslado")
        if error
        else request.session.get(_MECANISMO_SESION, ""),
        "clave": clave,
        "error": error,
        "acopios": [
            {
                "evento": e,
                "hora": _texto_hora(e),
                "mecanismo": e.datos.get("mecanismo_traslado", ""),
            }
            for e in eventos
        ],
    }
    status = getattr(error, "http_status", 400) if error else 200
    return render(request, "intake/acopio.html", contexto, status=status)


# --- digitalización ----------------------------------------------------------------------


@roles(Rol.DIGITALIZADOR)
@require_http_methods(["GET", "POST"])
def digitalizacion(request: HttpRequest) -> HttpResponse:
    """``/digitalizacion/``: a CATD scan of an acta (ORIGEN CATD, DIGITALIZACION ESCANER)."""
    if request.method == "GET":
        return _pagina_digitalizacion(request)
    try:
        resultado, por = recibir_digitalizacion(request, origen="CATD", digitalizacion="ESCANER")
    except UserError as exc:
        if wants_json(request):
            raise
        return _pagina_digitalizacion(request, error=exc)
    if wants_json(request):
        return respuesta_json_digitalizacion(resultado, por)
    acta = resultado.acta
    if resultado.nueva:
        forma = "su código QR" if por == "qr" else "la clave escrita"
        messages.success(
            request, f"Imagen registrada para el acta {acta.clave_acta} (identificada por {forma})."
        )
    else:
        messages.info(
            request,
            f"Esa imagen ya estaba registrada para el acta {acta.clave_acta}; no se registró "
            "nada nuevo.",
        )
    if acta.fuera_catalogo:
        messages.warning(
            request,
            f"El acta {acta.clave_acta} está FUERA DE CATÁLOGO: su clave no corresponde a "
            "ninguna acta esperada. Compruebe la clave; si es correcta, avise al coordinador.",
        )
    return redirect("digitalizacion")


def recibir_digitalizacion(
    request: HttpRequest, *, origen: str, digitalizacion: str
) -> tuple[Digitalizacion, str]:
    """An uploaded acta image (field ``imagen``), checked, identified by its QR code or the
    typed ``clave_acta``, and recorded: the digitalización and how the acta was known."""
    try:
        largo = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        largo = 0
    if largo > settings.OPENPREP_IMAGEN_MAX_BYTES + _MARGEN_SOLICITUD:
        comprobar_tamano(largo, nombre="")  # refused before the body is even parsed
    archivo = request.FILES.get("imagen")
    if archivo is None:
        raise ImagenNoValida(
            "no se recibió la imagen del acta.",
            where="campo imagen",
            hint=f"Elija o tome la imagen ({FORMATOS_ACEPTADOS}) y envíela de nuevo.",
        )
    nombre = archivo.name or ""
    comprobar_tamano(archivo.size or 0, nombre=nombre)
    recibida = leer_imagen(archivo.read(), nombre=nombre)
    clave, por = identificar_acta(
        claves_qr=recibida.claves_qr, clave_tecleada=request.POST.get("clave_acta", "")
    )
    tipo_documento = (request.POST.get("tipo_documento") or "ACTA PREP").strip().upper()
    if tipo_documento not in TIPOS_DOCUMENTO:
        raise IntakeError(
            f"TIPO_DOCUMENTO {tipo_documento!r} no es válido.",
            where="campo tipo_documento",
            hint=f"Valores permitidos: {', '.join(TIPOS_DOCUMENTO)}.",
        )
    resultado = recibir_imagen(
        eleccion=eleccion_de_clave(clave),
        clave_acta=clave,
        usuario=request.user,  # type: ignore[arg-type]
        catd=_catd(request),
        cuando=timezone.now(),
        origen=origen,
        digitalizacion=digitalizacion,
        tipo_documento=tipo_documento,
        contenido=recibida.contenido,
    )
    return resultado, por


def respuesta_json_digitalizacion(resultado: Digitalizacion, por: str) -> JsonResponse:
    """201 for an image new to the acta, 200 for the same image again (nothing recorded).

    ``publicada`` tells whether this image is the one the acta publishes (a casilla photo
    received after a CATD scan is kept, not published).
    """
    acta = resultado.acta
    return JsonResponse(
        {
            "clave_acta": acta.clave_acta,
            "eleccion": acta.eleccion.etiqueta,
            "sha256": resultado.sha256,
            "estado": acta.estado,
            "identificada_por": por,
            "fuera_catalogo": acta.fuera_catalogo,
            "publicada": resultado.publicada,
        },
        status=201 if resultado.nueva else 200,
    )


def _pagina_digitalizacion(request: HttpRequest, *, error: UserError | None = None) -> HttpResponse:
    eventos = _ultimos(request, TipoEvento.DIGITALIZACION)
    contexto = {
        "operador": operador_de(request.user),
        "tipos_documento": TIPOS_DOCUMENTO,
        "tipo_documento": request.POST.get("tipo_documento", "ACTA PREP"),
        "clave": request.POST.get("clave_acta", "") if error else "",
        "error": error,
        "max_megas": settings.OPENPREP_IMAGEN_MAX_BYTES // (1024 * 1024),
        "max_megapixeles": settings.OPENPREP_IMAGEN_MAX_PIXELES // 1_000_000,
        "formatos": FORMATOS_ACEPTADOS,
        "digitalizaciones": [{"evento": e, "hora": _texto_hora(e), **e.datos} for e in eventos],
    }
    status = getattr(error, "http_status", 400) if error else 200
    return render(request, "intake/digitalizacion.html", contexto, status=status)


# --- images ------------------------------------------------------------------------------


@roles(Rol.DIGITALIZADOR, Rol.CAPTURISTA, Rol.VERIFICADOR, Rol.COORDINADOR)
@require_safe
def imagen(request: HttpRequest, sha256: str) -> HttpResponse:
    """``/imagenes/<sha256>/``: the stored bytes of an acta image. Content-addressed, so
    a browser may keep them for a year."""
    sha = sha256.lower()
    registro = Imagen.objects.filter(sha256=sha).first() if SHA256_HEX.fullmatch(sha) else None
    if registro is None or not registro.archivo:
        raise ImagenNoEncontrada(
            f"no hay una imagen guardada con SHA-256 {sha256[:64]!r}.",
            hint="Revise el enlace; una imagen conocida solo por su hash publicado "
            "no tiene archivo.",
        )
    try:
        archivo = registro.archivo.open("rb")
    except FileNotFoundError:
        raise ImagenNoEncontrada(
            f"la imagen {sha} está registrada pero su archivo no está en el almacén.",
            hint="Avise al administrador.",
        ) from None
    tipo = tipo_de_contenido(archivo.read(16))
    archivo.seek(0)
    respuesta = FileResponse(archivo, content_type=tipo)
    respuesta["Cache-Control"] = INMUTABLE
    return respuesta


# --- shared ------------------------------------------------------------------------------


def _texto_hora(evento: EventoActa) -> str:
    return f"{hora_local(evento.cuando, evento.acta.eleccion):%Y-%m-%d %H:%M:%S}"


def _catd(request: HttpRequest) -> str:
    operador = operador_de(request.user)
    return operador.catd.clave if operador is not None and operador.catd else ""


def _ultimos(request: HttpRequest, tipo: TipoEvento) -> list[EventoActa]:
    """This operator's latest events of one kind, newest first (one query)."""
    return list(
        EventoActa.objects.filter(usuario=request.user, tipo=tipo)
        .select_related("acta__eleccion")
        .order_by("-id")[:ULTIMOS]
    )
