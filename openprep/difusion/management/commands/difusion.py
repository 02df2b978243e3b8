"""``openprep difusion push|status``: deliver the current corte now; the difusores' state."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from openprep.catalog.models import Proceso
from openprep.commands import OpenprepCommand
from openprep.core.errors import UserError
from openprep.difusion.estado import estado_difusores
from openprep.difusion.models import Difusor, Resultado
from openprep.difusion.servicios import difundir
from openprep.publish.folder import read_latest


def periodo() -> timedelta:
    """The publication interval: a delivery must end before the next corte."""
    proceso = Proceso.objects.order_by("id").first()
    return timedelta(minutes=proceso.intervalo_minutos if proceso else 15)


class Command(OpenprepCommand):
    help = (
        "Difusión: «push» entrega el corte vigente a cada difusor habilitado; «status» su estado."
    )

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="accion", required=True)
        push = sub.add_parser("push", help="entrega ahora el corte vigente a los difusores")
        push.add_argument("--publicacion", type=Path, default=None)
        push.add_argument(
            "--plazo-segundos",
            type=int,
            default=None,
            help="tiempo para entregar, con reintentos (predeterminado: el intervalo de cortes)",
        )
        status = sub.add_parser("status", help="estado de cada difusor")
        status.add_argument("--publicacion", type=Path, default=None)
        status.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        publicacion = options["publicacion"] or Path(settings.OPENPREP_PUBLICACION)
        if options["accion"] == "status":
            estados = estado_difusores(publicacion=publicacion)
            if options["json"]:
                self.stdout.write(
                    json.dumps([e.as_json() for e in estados], ensure_ascii=False, indent=2)
                )
            else:
                for e in estados:
                    self.stdout.write(
                        f"{e.nombre}: {'habilitado' if e.habilitado else 'SUSPENDIDO'}, "
                        f"último corte {e.ultimo_corte or '—'}, "
                        f"fallas seguidas {e.fallas_consecutivas}"
                    )
            return
        latest = read_latest(publicacion)
        if latest is None:
            raise UserError(
                f"{publicacion} no tiene cortes publicados.",
                hint="Publique uno con «openprep corte build» o inicie «openprep worker».",
            )
        segundos = options["plazo_segundos"]
        plazo = timezone.now() + (timedelta(seconds=segundos) if segundos else periodo())
        entregas = difundir(publicacion=publicacion, latest=latest, plazo=plazo)
        fallidas = 0
        for e in entregas:
            if e.resultado == Resultado.ENTREGADA:
                self.stdout.write(
                    f"{e.difusor.nombre}: corte {e.corte} entregado – {e.archivos} archivos, "
                    f"{e.bytes} bytes, {e.omitidos} ya los tenía, {e.intentos} intento(s)."
                )
            else:
                fallidas += 1
                self.stderr.write(f"{e.difusor.nombre}: corte {e.corte} NO entregado – {e.error}")
        if not Difusor.objects.filter(habilitado=True).exists():
            self.stdout.write("No hay difusores habilitados («openprep difusor list»).")
        elif not entregas:
            self.stdout.write(f"Todos los difusores habilitados ya tienen el corte {latest.corte}.")
        if fallidas:
            raise UserError(f"{fallidas} difusor(es) no recibieron el corte {latest.corte}.")
