"""``openprep corte build|llave``: publish a corte now; create the signing key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from openprep.commands import OpenprepCommand
from openprep.publish import signing
from openprep.publish.builder import SigningKey, build


def signing_key() -> SigningKey:
    return SigningKey(
        path=Path(settings.OPENPREP_LLAVE_CORTE), principal=settings.OPENPREP_FIRMANTE
    )


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
        key = signing_key()
        if options["accion"] == "llave":
            signing.generate_key(key.path, principal=key.principal)
            self.stdout.write(f"Llave de firma creada: {key.path}")
            self.stdout.write(f"Llave pública: {signing.public_key(key.path)}")
            return
        if not key.path.exists():
            signing.generate_key(key.path, principal=key.principal)
            self.stdout.write(f"Se creó la llave de firma de los cortes: {key.path}")
        publicacion = options["publicacion"] or Path(settings.OPENPREP_PUBLICACION)
        latest = build(publicacion, hasta=timezone.now(), key=key)
        self.stdout.write(
            f"Corte {latest.numero} publicado ({latest.fecha_hora}): "
            f"{publicacion / 'cortes' / latest.corte}"
        )
