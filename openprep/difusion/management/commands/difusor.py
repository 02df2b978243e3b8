"""``openprep difusor add|list|habilitar|inhabilitar``: the difusores' registry."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

from openprep.commands import OpenprepCommand
from openprep.core.errors import UserError
from openprep.difusion.models import Difusor, Protocolo
from openprep.difusion.registro import RegistroInvalido, inhabilitar, registrar_difusor, rehabilitar


def _leer(path: Path | None, *, que: str) -> str:
    if path is None:
        return ""
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise RegistroInvalido(f"no se puede leer {que} {path} ({exc.strerror}).") from exc


class Command(OpenprepCommand):
    help = "Registro de difusores oficiales: alta (add), lista (list), habilitar, inhabilitar."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="accion", required=True)
        alta = sub.add_parser("add", help="registra un difusor (o actualiza el del mismo nombre)")
        alta.add_argument("--nombre", required=True)
        alta.add_argument("--protocolo", required=True, choices=Protocolo.values)
        alta.add_argument("--host", required=True, help="servidor del difusor")
        alta.add_argument("--puerto", type=int, default=None, help="22 (SFTP) o 21 (FTP/FTPS)")
        alta.add_argument("--usuario", required=True)
        alta.add_argument("--carpeta", default=".", help="carpeta de publicación remota")
        alta.add_argument("--clave-ssh", type=Path, default=None, help="llave privada SSH")
        alta.add_argument(
            "--contrasena-archivo",
            type=Path,
            default=None,
            help="archivo con la contraseña (nunca en la línea de órdenes)",
        )
        alta.add_argument(
            "--pedir-contrasena", action="store_true", help="pide la contraseña en la terminal"
        )
        alta.add_argument(
            "--llave-host",
            default="",
            help="llave pública del servidor SSH («ssh-ed25519 AAAA…»); sin ella se registra "
            "la de la primera conexión",
        )
        alta.add_argument("--contacto", default="", help="personal técnico: nombre, teléfono")
        alta.add_argument("--enlace", default="", help="dirección pública del sitio del difusor")
        alta.add_argument("--logo", type=Path, default=None, help="logotipo (PNG, JPEG o SVG)")
        lista = sub.add_parser("list", help="lista los difusores")
        lista.add_argument("--json", action="store_true")
        for accion in ("habilitar", "inhabilitar"):
            cambio = sub.add_parser(accion, help=f"{accion} un difusor (queda registrado)")
            cambio.add_argument("nombre")
            cambio.add_argument("--motivo", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        accion = options["accion"]
        if accion == "add":
            self.alta(options)
        elif accion == "list":
            self.lista(as_json=options["json"])
        else:
            try:
                difusor = Difusor.objects.get(nombre=options["nombre"])
            except Difusor.DoesNotExist as exc:
                raise UserError(
                    f"no hay un difusor llamado «{options['nombre']}».",
                    hint="Vea los registrados con «openprep difusor list».",
                ) from exc
            cambiar = rehabilitar if accion == "habilitar" else inhabilitar
            cambiar(difusor, usuario=None, motivo=options["motivo"])
            self.stdout.write(f"Difusor {difusor.nombre}: {accion[:-1]}do.")

    def alta(self, options: dict[str, Any]) -> None:
        contrasena = _leer(options["contrasena_archivo"], que="la contraseña en")
        if options["pedir_contrasena"]:
            contrasena = getpass.getpass(f"Contraseña de {options['usuario']}: ")
        difusor, creado = registrar_difusor(
            nombre=options["nombre"],
            protocolo=options["protocolo"],
            host=options["host"],
            puerto=options["puerto"],
            usuario=options["usuario"],
            carpeta=options["carpeta"],
            contrasena=contrasena,
            clave_ssh=_leer(options["clave_ssh"], que="la llave SSH"),
            llave_host=options["llave_host"],
            contacto=options["contacto"],
            enlace=options["enlace"],
            logo=options["logo"],
        )
        verbo = "registrado" if creado else "actualizado"
        self.stdout.write(
            f"Difusor {difusor.nombre} {verbo}: {difusor.protocolo}://{difusor.usuario}@"
            f"{difusor.host}:{difusor.puerto}/{difusor.carpeta}"
        )

    def lista(self, *, as_json: bool) -> None:
        filas = [
            {
                "nombre": d.nombre,
                "protocolo": d.protocolo,
                "host": d.host,
                "puerto": d.puerto,
                "usuario": d.usuario,
                "carpeta": d.carpeta,
                "habilitado": d.habilitado,
                "fallas_consecutivas": d.fallas_consecutivas,
                "ultimo_corte": d.ultimo_corte or None,
                "enlace": d.enlace,
            }
            for d in Difusor.objects.all()
        ]
        if as_json:
            self.stdout.write(json.dumps(filas, ensure_ascii=False, indent=2))
            return
        if not filas:
            self.stdout.write("No hay difusores registrados.")
        for f in filas:
            estado = "habilitado" if f["habilitado"] else "SUSPENDIDO"
            self.stdout.write(
                f"{f['nombre']}: {f['protocolo']}://{f['usuario']}@{f['host']}:{f['puerto']}"
                f"/{f['carpeta']} – {estado}, fallas seguidas {f['fallas_consecutivas']}, "
                f"último corte {f['ultimo_corte'] or '—'}"
            )
