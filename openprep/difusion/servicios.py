"""Deliver the current corte to every enabled difusor, record it, and apply the 3-strike rule.

One :class:`~openprep.difusion.models.Entrega` row per difusor per corte is written
before anything is sent (the outbox): a worker killed mid-push leaves it ``pendiente``,
and the next push (or the restarted worker) resumes it. Each difusor has its own thread;
within the period an attempt that fails is retried with growing waits; when the period
ends without a whole delivery the corte is a miss, and the third miss in a row suspends
the difusor (seed 001: "3 periodos de actualización consecutiva").
"""

from __future__ import annotations

import contextlib
import ftplib
import logging
import ssl
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import paramiko
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from openprep.difusion import secretos
from openprep.difusion.envio import Avance, Resumen, entregar
from openprep.difusion.models import (
    FALLAS_PARA_SUSPENDER,
    Difusor,
    Entrega,
    Incidente,
    Protocolo,
    Resultado,
    TipoIncidente,
)
from openprep.difusion.transporte import Destino, FallaDeDifusor, describir
from openprep.difusion.transporte_ftp import DestinoFTP
from openprep.difusion.transporte_sftp import DestinoSFTP
from openprep.publish.folder import Latest

log = logging.getLogger(__name__)

ESPERAS = (2, 5, 10, 20, 40, 60)
"""Seconds between attempts within one period (the last one repeats)."""

ERRORES_DE_RED = (OSError, EOFError, paramiko.SSHException, ftplib.Error)


def abrir_destino(difusor: Difusor) -> Destino:
    """Connect to ``difusor``; records its SSH host key the first time (an incident)."""
    timeout = settings.OPENPREP_DIFUSION_TIMEOUT
    contrasena = secretos.descifrar(
        difusor.contrasena_cifrada, que=f"la contraseña del difusor {difusor.nombre}"
    )
    if difusor.protocolo == Protocolo.SFTP:
        destino, llave = DestinoSFTP.abrir(
            host=difusor.host,
            puerto=difusor.puerto,
            usuario=difusor.usuario,
            contrasena=contrasena,
            clave=secretos.descifrar(
                difusor.clave_ssh_cifrada, que=f"la llave SSH del difusor {difusor.nombre}"
            ),
            llave_host=difusor.llave_host,
            carpeta=difusor.carpeta,
            timeout=timeout,
        )
        if not difusor.llave_host:
            Difusor.objects.filter(pk=difusor.pk, llave_host="").update(llave_host=llave)
            Incidente.objects.create(
                difusor=difusor,
                tipo=TipoIncidente.LLAVE_HOST,
                descripcion=f"Primera conexión: se registró la llave del servidor {llave}.",
            )
            difusor.llave_host = llave
        return destino
    return DestinoFTP.abrir(
        host=difusor.host,
        puerto=difusor.puerto,
        usuario=difusor.usuario,
        contrasena=contrasena,
        carpeta=difusor.carpeta,
        timeout=timeout,
        tls=difusor.protocolo == Protocolo.FTPS,
        contexto_tls=ssl.create_default_context(cafile=settings.OPENPREP_DIFUSION_CA or None),
    )


MARGEN_RELOJ = 5.0
"""Seconds of slack between an image's file time and a delivery's start (clock, disk)."""


def _intento(
    difusor: Difusor, *, publicacion: Path, latest: Latest, plazo: datetime, avance: Avance | None
) -> Resumen:
    ultima = (
        Entrega.objects.filter(difusor=difusor, resultado=Resultado.ENTREGADA)
        .exclude(inicio=None)
        .order_by("-inicio")
        .values_list("inicio", flat=True)
        .first()
    )
    destino = abrir_destino(difusor)
    try:
        return entregar(
            destino,
            publicacion=publicacion,
            latest=latest,
            plazo=plazo,
            avance=avance,
            imagenes_desde=ultima.timestamp() - MARGEN_RELOJ if ultima else None,
        )
    finally:
        with contextlib.suppress(*ERRORES_DE_RED):  # the connection may be gone already
            destino.cerrar()


@dataclass(frozen=True)
class Opciones:
    publicacion: Path
    latest: Latest
    plazo: datetime
    esperas: Sequence[float] = ESPERAS
    avance: Avance | None = None
    detener: threading.Event = field(default_factory=threading.Event)
    """Set by a worker asked to stop: no further attempt starts."""


def _entregar_a(difusor: Difusor, entrega: Entrega, opciones: Opciones) -> Entrega:
    """Attempt until delivered or the period is over; record the result and the strikes."""
    ya_fallida = entrega.resultado == Resultado.FALLIDA
    entrega.inicio = timezone.now()
    errores: list[str] = []
    resumen: Resumen | None = None
    while True:
        entrega.intentos += 1
        Entrega.objects.filter(pk=entrega.pk).update(
            inicio=entrega.inicio, intentos=entrega.intentos
        )
        try:
            resumen = _intento(
                difusor,
                publicacion=opciones.publicacion,
                latest=opciones.latest,
                plazo=opciones.plazo,
                avance=opciones.avance,
            )
            break
        except FallaDeDifusor as exc:
            errores.append(exc.text)
        except ERRORES_DE_RED as exc:  # dropped, full disk, denied mid-transfer …
            errores.append(describir(exc))
        espera = opciones.esperas[min(len(errores), len(opciones.esperas)) - 1]
        if timezone.now() + timedelta(seconds=espera) >= opciones.plazo:
            break
        log.info("difusor %s: intento %d falló; otro en %ss", difusor, entrega.intentos, espera)
        if opciones.detener.wait(espera):
            break
    entrega.fin = timezone.now()
    if resumen is not None:
        entrega.resultado = Resultado.ENTREGADA
        entrega.archivos, entrega.bytes, entrega.omitidos = (
            resumen.archivos,
            resumen.bytes,
            resumen.omitidos,
        )
        entrega.error = "\n".join(errores)
    else:
        entrega.resultado = Resultado.FALLIDA
        entrega.error = "\n".join(errores)
    entrega.save()
    _contar(difusor, entrega=entrega, ya_fallida=ya_fallida)
    return entrega


def _contar(difusor: Difusor, *, entrega: Entrega, ya_fallida: bool) -> None:
    """A delivered corte clears the strikes; a corte's first miss adds one; the third suspends."""
    with transaction.atomic():
        if entrega.resultado == Resultado.ENTREGADA:
            Difusor.objects.filter(pk=difusor.pk).update(
                fallas_consecutivas=0, ultimo_corte=entrega.corte
            )
            return
        if ya_fallida:
            return  # the same corte again: still one miss
        Difusor.objects.filter(pk=difusor.pk).update(
            fallas_consecutivas=F("fallas_consecutivas") + 1
        )
        actual = Difusor.objects.select_for_update().get(pk=difusor.pk)
        if actual.habilitado and actual.fallas_consecutivas >= FALLAS_PARA_SUSPENDER:
            actual.habilitado = False
            actual.save(update_fields=["habilitado"])
            perdidos = list(
                Entrega.objects.filter(difusor=actual, resultado=Resultado.FALLIDA)
                .order_by("-id")
                .values_list("corte", flat=True)[:FALLAS_PARA_SUSPENDER]
            )
            ultimo_error = entrega.error.splitlines()[-1] if entrega.error else ""
            Incidente.objects.create(
                difusor=actual,
                tipo=TipoIncidente.SUSPENDIDO,
                corte=entrega.corte,
                descripcion=(
                    f"No recibió {FALLAS_PARA_SUSPENDER} cortes seguidos "
                    f"({', '.join(reversed(perdidos))}); se suspende el envío y se retira "
                    f"su enlace del sitio. Último error: {ultimo_error}"
                ),
            )


def difundir(
    *,
    publicacion: Path,
    latest: Latest,
    plazo: datetime,
    esperas: Sequence[float] = ESPERAS,
    avance: Avance | None = None,
    detener: threading.Event | None = None,
) -> list[Entrega]:
    """Deliver ``latest`` to every enabled difusor that lacks it, in parallel, by ``plazo``."""
    difusores = list(Difusor.objects.filter(habilitado=True))
    pendientes = []
    for difusor in difusores:
        entrega, _ = Entrega.objects.get_or_create(difusor=difusor, corte=latest.corte)
        if entrega.resultado != Resultado.ENTREGADA:
            pendientes.append((difusor, entrega))
    if not pendientes:
        return []
    opciones = Opciones(
        publicacion=publicacion,
        latest=latest,
        plazo=plazo,
        esperas=esperas,
        avance=avance,
        detener=detener or threading.Event(),
    )

    def trabajo(par: tuple[Difusor, Entrega]) -> Entrega:
        try:
            return _entregar_a(par[0], par[1], opciones)
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=len(pendientes), thread_name_prefix="difusor") as pool:
        return list(pool.map(trabajo, pendientes))
