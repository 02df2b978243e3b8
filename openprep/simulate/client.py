"""An operator at the console, over HTTP: what a browser or the PREP Casilla app sends.

Every request says ``Accept: application/json`` (docs/api.md), so a refusal comes back
as the server's Spanish JSON; :class:`Rechazo` carries its ``mensaje``. Console accounts
log in through ``/entrar/`` (a session and the CSRF cookie, sent back as ``X-CSRFToken``);
the PREP Casilla app trades its password for a token once (HTTP Basic) and sends the
token with every photo (``Authorization: Bearer``), with no session.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests

from openprep.core.errors import UserError

TIMEOUT_SECONDS = 60
JSON = {"Accept": "application/json"}
SESION_APP = "/api/casilla/v1/sesion/"


@dataclass(frozen=True, slots=True)
class Cuenta:
    """One row of the package's ``operadores.csv``."""

    usuario: str
    rol: str
    catd: str
    clave: str


class ServidorInaccesible(UserError):
    """The server did not answer, or answered what no openprep server would."""


class Rechazo(Exception):
    """The server refused a request: its status and its Spanish explanation."""

    def __init__(self, *, usuario: str, peticion: str, status: int, mensaje: str) -> None:
        self.usuario = usuario
        self.peticion = peticion
        self.status = status
        self.mensaje = mensaje
        super().__init__(f"{peticion} ({usuario}): {status} {mensaje}")


@dataclass(frozen=True, slots=True)
class Respuesta:
    status: int
    datos: dict[str, Any]
    segundos: float
    contenido: bytes = b""


def mensaje_de(response: requests.Response) -> str:
    """The server's Spanish explanation of a refusal (the JSON ``mensaje``), or its text."""
    try:
        datos = response.json()
    except ValueError:
        texto = " ".join(response.text.split())
        return texto[:300] or response.reason or ""
    if isinstance(datos, dict):
        return str(datos.get("mensaje") or datos.get("error") or datos)
    return str(datos)


class Operador:
    """One console account with its own session (one per thread: sessions are not shared)."""

    def __init__(self, base_url: str, cuenta: Cuenta) -> None:
        self.base_url = base_url.rstrip("/")
        self.cuenta = cuenta
        self.session = requests.Session()
        self.session.headers.update(JSON)
        self.app = False
        """The PREP Casilla app (a token, no session, no CSRF) rather than a console."""

    def _url(self, path: str) -> str:
        return self.base_url + path

    def entrar(self) -> None:
        """Log in as the console's login form does (CSRF cookie first)."""
        url = self._url("/entrar/")
        try:
            self.session.get(url, timeout=TIMEOUT_SECONDS).raise_for_status()
            token = self.session.cookies.get("csrftoken", "")
            answer = self.session.post(
                url,
                data={
                    "username": self.cuenta.usuario,
                    "password": self.cuenta.clave,
                    "csrfmiddlewaretoken": token,
                },
                headers={"X-CSRFToken": token, "Referer": url},
                allow_redirects=False,
                timeout=TIMEOUT_SECONDS,
            )
        except requests.RequestException as exc:
            raise ServidorInaccesible(
                f"no se pudo conectar con {self.base_url} ({exc.__class__.__name__}).",
                hint="Revise que «openprep serve» esté corriendo y la dirección --server.",
            ) from exc
        if "sessionid" not in self.session.cookies:
            raise Rechazo(
                usuario=self.cuenta.usuario,
                peticion="POST /entrar/",
                status=answer.status_code,
                mensaje="el servidor no aceptó el usuario y la contraseña de operadores.csv "
                "(¿se importó el paquete en este servidor?).",
            )

    def entrar_app(self) -> None:
        """Trade the password for the PREP Casilla API's token, as the app does once."""
        respuesta = self._send("POST", SESION_APP, auth=(self.cuenta.usuario, self.cuenta.clave))
        self.session.headers["Authorization"] = f"Bearer {respuesta.datos['token']}"
        self.app = True

    def post(
        self,
        path: str,
        *,
        data: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> Respuesta:
        """POST; a 2xx is returned, anything else raised as :class:`Rechazo`."""
        headers = {}
        if not self.app:
            headers["X-CSRFToken"] = self.session.cookies.get("csrftoken", "")
            headers["Referer"] = self._url(path)
        return self._send("POST", path, data=data, files=files, headers=headers)

    def get(self, path: str) -> Respuesta:
        return self._send("GET", path)

    def _send(self, method: str, path: str, **kwargs: Any) -> Respuesta:
        started = time.perf_counter()
        try:
            answer = self.session.request(
                method, self._url(path), allow_redirects=False, timeout=TIMEOUT_SECONDS, **kwargs
            )
        except requests.RequestException as exc:
            raise ServidorInaccesible(
                f"{method} {path} no obtuvo respuesta de {self.base_url} "
                f"({exc.__class__.__name__}).",
                hint="Revise que el servidor siga corriendo.",
            ) from exc
        segundos = time.perf_counter() - started
        if not 200 <= answer.status_code < 300:
            raise Rechazo(
                usuario=self.cuenta.usuario,
                peticion=f"{method} {path}",
                status=answer.status_code,
                mensaje=mensaje_de(answer),
            )
        datos: dict[str, Any] = {}
        if "application/json" in answer.headers.get("Content-Type", ""):
            datos = answer.json()
        return Respuesta(answer.status_code, datos, segundos, answer.content)


def comprobar_servidor(base_url: str) -> None:
    """Fail early, in Spanish, when no openprep server answers at ``base_url``."""
    url = base_url.rstrip("/") + "/entrar/"
    try:
        answer = requests.get(url, headers=JSON, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise ServidorInaccesible(
            f"no se pudo conectar con {base_url} ({exc.__class__.__name__}).",
            hint="Revise que «openprep serve» esté corriendo y la dirección --server.",
        ) from exc
    if answer.status_code != 200 or "csrftoken" not in answer.cookies:
        raise ServidorInaccesible(
            f"{url} respondió {answer.status_code} sin la página de entrada de openprep.",
            hint="Revise la dirección --server (p. ej. http://127.0.0.1:8000).",
        )
