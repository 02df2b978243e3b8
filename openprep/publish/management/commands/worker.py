"""``openprep worker``: publish a corte on schedule until the end of publication.

From the process's publication start, every interval (``proceso.toml``), one corte;
the last one, at the configured end or once every expected acta is verified, is final.
SIGTERM or Ctrl-C stop it between cortes: a corte in progress is never half-published
(it is built aside and swapped in), and a restarted worker goes on from the next slot.
"""

from __future__ import annotations

import signal
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from openprep.catalog.models import Proceso
from openprep.commands import OpenprepCommand
from openprep.core.errors import UserError
from openprep.difusion.models import Resultado
from openprep.difusion.servicios import difundir
from openprep.publish.builder import build, every_expected_acta_verified, signing_key
from openprep.publish.folder import PublicationError, read_latest
from openprep.publish.schedule import next_corte


class Command(OpenprepCommand):
    help = (
        "Publica un corte en cada intervalo, desde el inicio hasta el fin de la publicación "
        "(o hasta que todas las actas esperadas estén verificadas); el último es el final."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--publicacion", type=Path, default=None)
        parser.add_argument(
            "--intervalo-segundos",
            type=int,
            default=None,
            help="para simulacros: un corte cada N segundos desde ahora, sin esperar al inicio",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stop = threading.Event()
        previous = {
            signum: signal.signal(signum, lambda *_: self.stop.set())
            for signum in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            self.run(options)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def run(self, options: dict[str, Any]) -> None:
        proceso = Proceso.objects.order_by("id").first()
        if proceso is None:
            raise UserError(
                "no hay un proceso electoral cargado.",
                hint="Importe el paquete electoral con «openprep catalog import CARPETA».",
            )
        publicacion = options["publicacion"] or Path(settings.OPENPREP_PUBLICACION)
        inicio, fin = proceso.inicio_publicacion, proceso.fin_publicacion
        intervalo = timedelta(minutes=proceso.intervalo_minutos)
        if options["intervalo_segundos"]:
            intervalo = timedelta(seconds=max(1, options["intervalo_segundos"]))
            inicio = timezone.now()
            fin = inicio + timedelta(hours=24)
        self.stdout.write(f"Publicación en {publicacion}: un corte cada {intervalo}.")
        while not self.stop.is_set():
            hasta = next_corte(inicio=inicio, intervalo=intervalo, fin=fin, now=timezone.now())
            if hasta is None:
                self.stdout.write("La publicación ya concluyó.")
                return
            self.deliver(publicacion, plazo=hasta)  # the current corte, until the next one
            if not self.wait_until(hasta):
                break
            if self.publish(publicacion, hasta=hasta, fin=fin):
                self.deliver(publicacion, plazo=timezone.now() + intervalo)
                return
        self.stdout.write("Detenido; el último corte publicado sigue vigente.")

    def deliver(self, publicacion: Path, *, plazo: datetime) -> None:
        """Bring every enabled difusor to the current corte (a restarted worker resumes)."""
        latest = read_latest(publicacion)
        if latest is None or self.stop.is_set():
            return
        for entrega in difundir(
            publicacion=publicacion, latest=latest, plazo=plazo, detener=self.stop
        ):
            if entrega.resultado == Resultado.ENTREGADA:
                self.stdout.write(f"Difusor {entrega.difusor}: corte {entrega.corte} entregado.")
            else:
                self.stderr.write(
                    f"Aviso: el difusor {entrega.difusor} no recibió el corte {entrega.corte}: "
                    f"{entrega.error.splitlines()[-1] if entrega.error else ''}"
                )

    def wait_until(self, moment: datetime) -> bool:
        """Sleep until ``moment``; False if asked to stop first."""
        delay = (moment - timezone.now()).total_seconds()
        return delay <= 0 or not self.stop.wait(delay)

    def publish(self, publicacion: Path, *, hasta: datetime, fin: datetime) -> bool:
        """One corte; True when it was the final one."""
        final = hasta >= fin or every_expected_acta_verified()
        try:
            latest = build(publicacion, hasta=hasta, key=signing_key(), final=final)
        except PublicationError as exc:  # e.g. this slot was published before a restart
            self.stderr.write(f"Aviso: {exc.text}")
            return False
        kind = "final" if final else "publicado"
        self.stdout.write(f"Corte {latest.numero} {kind}: {latest.fecha_hora} ({latest.corte})")
        return final
