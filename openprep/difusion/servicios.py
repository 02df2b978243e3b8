"""Deliver the current corte to every enabled difusor, record it, and apply the 3-strike rule.

One :class:`~openprep.difusion.models.Entrega` row per difusor per corte is written
before anything is sent (the outbox): a worker killed mid-push leaves it ``pendiente``,
and the next push (or the restarted worker) resumes it. Each difusor has its own thread
that only talks to the network (every database read and write happens in the calling
thread, before and after); within the period an attempt that fails is retried with
growing waits; when the period ends without a whole delivery the corte is a miss, and
the third miss in a row suspends the difusor (seed 001: "3 periodos de actualización
consecutiva").
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
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from openprep.core.errors import UserError
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
from openprep.difusion.transporte import Destino, describir
from openprep.difusion.transporte_ftp import DestinoFTP
from openprep.difusion.transporte_sftp import DestinoSFTP
from openprep.publish.folder import Latest

log = logging.getLogger(__name__)

ESPERAS = (2, 5, 10, 20, 40, 60)
"""Seconds between attempts within one period (the last one repeats)."""

ERRORES_DE_RED = (OSError, EOFError, paramiko.SSHException, ftplib.Error)

MARGEN_RELOJ = 5.0
"""Seconds of slack between an image's file time and a delivery's start (clock, disk)."""


@dataclass(frozen=True)
class Conexion:
    """What a thread needs to reach one difusor: read from the database beforehand."""

    nombre: str
    protocolo: str
    host: str
    puerto: int
    usuario: str
    carpeta: str
    contrasena: str
    clave: str
    llave_host: str
    imagenes_desde: float | None
    """When its last whole delivery began (images published before are there)."""
    problema: str = ""
    """Why it cannot even be tried (its stored credentials cannot be decrypted)."""

    @classmethod
    def de(cls, difusor: Difusor) -> Conexion:
        ultima = (
            Entrega.objects.filter(difusor=difusor, resultado=Resultado.ENTREGADA)
            .exclude(inicio=None)
            .order_by("-inicio")
            .values_list("inicio", flat=True)
            .first()
        )
        try:
            contrasena = secretos.descifrar(
                difusor.contrasena_cifrada, que=f"la contraseña del difusor {difusor.nombre}"
            )
            clave = secretos.descifrar(
                difusor.clave_ssh_cifrada, que=f"la llave SSH del difusor {difusor.nombre}"
            )
            problema = ""
        except UserError as exc:
            contrasena, clave, problema = "", "", exc.text
        return cls(
            nombre=difusor.nombre,
            protocolo=difusor.protocolo,
            host=difusor.host,
            puerto=difusor.puerto,
            usuario=difusor.usuario,
            carpeta=difusor.carpeta,
            contrasena=contrasena,
            clave=clave,
            llave_host=difusor.llave_host,
            imagenes_desde=ultima.timestamp() - MARGEN_RELOJ if ultima else None,
            problema=problema,
        )

    def abrir(self) -> tuple[Destino, str]:
        """Connect and log in; also the SSH server's key line (empty for FTP)."""
        timeout = settings.OPENPREP_DIFUSION_TIMEOUT
        if self.protocolo == Protocolo.SFTP:
            return DestinoSFTP.abrir(
                host=self.host,
                puerto=self.puerto,
                usuario=self.usuario,
                contrasena=self.contrasena,
                clave=self.clave,
                llave_host=self.llave_host,
                carpeta=self.carpeta,
                timeout=timeout,
            )
        destino = DestinoFTP.abrir(
            host=self.host,
            puerto=self.puerto,
            usuario=self.usuario,
            contrasena=self.contrasena,
            carpeta=self.carpeta,
            timeout=timeout,
            tls=self.protocolo == Protocolo.FTPS,
            contexto_tls=ssl.create_default_context(cafile=settings.OPENPREP_DIFUSION_CA or None),
        )
        return destino, ""


@dataclass(frozen=True)
class Opciones:
    publicacion: Path
    latest: Latest
    plazo: datetime
    esperas: Sequence[float] = ESPERAS
    avance: Avance | None = None
    detener: threading.Event = field(default_factory=threading.Event)
    """Set by a worker asked to stop: no further attempt starts."""


@dataclass
class Intentos:
    """What one difusor's thread did in this period."""

    inicio: datetime
    intentos: int = 0
    resumen: Resumen | None = None
    errores: list[str] = field(default_factory=list)
    llave_vista: str = ""


def _intentar(conexion: Conexion, opciones: Opciones) -> Intentos:
    """Attempt until delivered or the period is over (network only, no database)."""
    hecho = Intentos(inicio=timezone.now())
    if conexion.problema:
        hecho.errores.append(conexion.problema)
        return hecho
    while True:
        hecho.intentos += 1
        try:
            destino, hecho.llave_vista = conexion.abrir()
            try:
                hecho.resumen = entregar(
                    destino,
                    publicacion=opciones.publicacion,
                    latest=opciones.latest,
                    plazo=opciones.plazo,
                    avance=opciones.avance,
                    imagenes_desde=conexion.imagenes_desde,
                )
            finally:
                with contextlib.suppress(*ERRORES_DE_RED):  # the connection may be gone
                    destino.cerrar()
            return hecho
        except UserError as exc:  # FallaDeDifusor: refused, key changed, out of time …
            hecho.errores.append(exc.text)
        except ERRORES_DE_RED as exc:  # dropped, full disk, denied mid-transfer …
            hecho.errores.append(describir(exc))
        espera = opciones.esperas[min(len(hecho.errores), len(opciones.esperas)) - 1]
        if timezone.now() + timedelta(seconds=espera) >= opciones.plazo:
            return hecho
        log.info(
            "difusor %s: intento %d falló; otro en %ss", conexion.nombre, hecho.intentos, espera
        )
        if opciones.detener.wait(espera):
            return hecho


def _registrar(difusor: Difusor, entrega: Entrega, hecho: Intentos) -> Entrega:
    """Record the period's outcome, the server key first seen, and the strikes."""
    ya_fallida = entrega.resultado == Resultado.FALLIDA
    if hecho.llave_vista and not difusor.llave_host:
        Difusor.objects.filter(pk=difusor.pk, llave_host="").update(llave_host=hecho.llave_vista)
        Incidente.objects.create(
            difusor=difusor,
            tipo=TipoIncidente.LLAVE_HOST,
            descripcion=f"Primera conexión: se registró la llave del servidor {hecho.llave_vista}.",
        )
    entrega.inicio, entrega.fin = hecho.inicio, timezone.now()
    entrega.intentos += hecho.intentos
    entrega.error = "\n".join(hecho.errores)
    if hecho.resumen is not None:
        entrega.resultado = Resultado.ENTREGADA
        entrega.archivos = hecho.resumen.archivos
        entrega.bytes = hecho.resumen.bytes
        entrega.omitidos = hecho.resumen.omitidos
    else:
        entrega.resultado = Resultado.FALLIDA
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
    pendientes = []
    for difusor in Difusor.objects.filter(habilitado=True):
        entrega, _ = Entrega.objects.get_or_create(difusor=difusor, corte=latest.corte)
        if entrega.resultado != Resultado.ENTREGADA:
            pendientes.append((difusor, entrega, Conexion.de(difusor)))
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
    with ThreadPoolExecutor(max_workers=len(pendientes), thread_name_prefix="difusor") as pool:
        hechos = list(pool.map(lambda p: _intentar(p[2], opciones), pendientes))
    return [
        _registrar(difusor, entrega, hecho)
        for (difusor, entrega, _), hecho in zip(pendientes, hechos, strict=True)
    ]
