"""``openprep corte build|llave``: publish a corte now; create the signing key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from openprep.commands import OpenprepCommand
from openprep.publish import signing
from openprep.publish.builder import build, signing_key


class Command(OpenprepCommand):
    help = "Cortes del PREP: «build» publica un corte ahora; «llave» crea la llave de firma."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="accion", required=True)
        construir = sub.add_parser("build", help="construye, firma y publica un corte ahora")
        construir.add_argument(
            "--publicacion",
            type=Path,
            default=None,
            help="carpeta de publicación (predeterminado: $OPENPREP_PUBLICACION)",
        )
        sub.add_parser("llave", help="crea la llave Ed25519 que firma los cortes")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["accion"] == "llave":
            path = Path(settings.OPENPREP_LLAVE_CORTE)
            signing.generate_key(path, principal=settings.OPENPREP_FIRMANTE)
            self.stdout.write(f"Llave de firma creada: {path}")
            self.stdout.write(f"Llave pública: {signing.public_key(path)}")
            return
        publicacion = options["publicacion"] or Path(settings.OPENPREP_PUBLICACION)
        latest = build(publicacion, hasta=timezone.now(), key=signing_key())
        self.stdout.write(
            f"Corte {latest.numero} publicado ({latest.fecha_hora}): "
            f"{publicacion / 'cortes' / latest.corte}"
        )
