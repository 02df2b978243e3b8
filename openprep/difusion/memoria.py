"""The traffic half of the memoria técnica: visits, pages and hits from a site's access logs.

Seed 001, section VI asks each difusor for a memoria técnica with its servers' access logs
and a comparison of visits, pages and hits. This module reads access logs in nginx's
``combined`` format (Apache's is the same)::

    $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
    "$http_referer" "$http_user_agent"

plain or gzip-compressed (recognised by content, not by name), and counts, with these
definitions (the report repeats them):

- **hit**: every request line.
- **página** (page): a successful request (status 2xx or 304) with method GET for an
  HTML page, that is, a path (without its query string) ending in ``/`` or ``.html``.
- **visita** (visit): a request that begins a visit: its visitor (the pair client IP and
  user agent) made no request in the 30 minutes before it. A visitor who comes back after
  30 minutes or more of silence starts a new visit (the usual definition of web analytics).
- **visitante único por hora**: the distinct visitors (IP, user agent) with at least one
  request in that hour.

Everything is bucketed by the hour of the log's own clock: each line's ``$time_local``
with its offset, so ``06/Jun/2027:21:03:05 -0500`` counts in the hour
``2027-06-06 21:00 (UTC-5)``.

Logs can hold millions of lines, so they are streamed: one compiled regular expression
per line over bytes, timestamps decoded once per hour and offset, and only counters and
per-hour sets of visitor hashes kept in memory; the last-request table of the visit rule
forgets visitors silent for longer than the rule can see. Several files (rotated logs,
several servers) are merged by time, so their order on the command line does not matter.

A line that does not parse is counted and the first few are reported with file and line
number; it never stops the report. Pure functions: no Django, no database.
"""

from __future__ import annotations

import gzip
import heapq
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from operator import itemgetter
from pathlib import Path
from typing import IO

from openprep.core.errors import UserError
from openprep.core.model import utc_offset_name

VISITA_SEGUNDOS = 30 * 60
"""A visitor silent this long (or longer) starts a new visit with their next request."""

EJEMPLOS_INVALIDOS = 5
"""Unparseable lines reported by file and line number; the rest are only counted."""

PAGINAS_PRINCIPALES = 20

_LINEA = re.compile(rb'(\S+) \S+ \S+ \[([^\]]+)\] "([^"]*)" (\d{3}) (\d+|-) "[^"]*" "([^"]*)"')
_MESES = {
    m.encode(): i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_GZIP_MAGIC = b"\x1f\x8b"
_PODA_CADA = 200_000
_PODA_HOLGURA = 3600  # lines of a log may be out of order by this much and still count right


class RegistroIlegible(UserError):
    """An access log that cannot be read at all (missing, not a file, broken gzip)."""


@dataclass(frozen=True)
class LineaInvalida:
    archivo: str
    linea: int
    texto: str


@dataclass
class Lectura:
    """What reading the logs found besides the requests: lines read and lines refused."""

    lineas: int = 0
    invalidas: int = 0
    ejemplos: list[LineaInvalida] = field(default_factory=list)

    def invalida(self, *, archivo: str, linea: int, texto: bytes) -> None:
        self.invalidas += 1
        if len(self.ejemplos) < EJEMPLOS_INVALIDOS:
            muestra = texto[:120].decode("utf-8", "replace").rstrip("\r\n")
            self.ejemplos.append(LineaInvalida(archivo=archivo, linea=linea, texto=muestra))


# A parsed request: (epoch seconds, hour key, visitor hash, method, path, status, bytes).
# The hour key is (epoch of the local hour's start, UTC offset in minutes).
Peticion = tuple[int, tuple[int, int], int, bytes, bytes, int, int]


def leer_registro(ruta: Path, *, lectura: Lectura) -> Iterator[Peticion]:
    """The requests of one access log, in file order; bad lines go to ``lectura``."""
    nombre = str(ruta)
    horas: dict[bytes, tuple[int, tuple[int, int]] | None] = {}
    numero = 0
    try:
        with _abrir(ruta) as archivo:
            for numero, texto in enumerate(archivo, 1):
                lectura.lineas += 1
                m = _LINEA.match(texto)
                if m is None:
                    lectura.invalida(archivo=nombre, linea=numero, texto=texto)
                    continue
                ip, ts, peticion, estado, tamano, agente = m.groups()
                clave_hora = ts[:14] + ts[20:]
                hora = horas.get(clave_hora, False)
                if hora is False:
                    hora = horas[clave_hora] = _hora(ts)
                if hora is None or len(ts) != 26:
                    lectura.invalida(archivo=nombre, linea=numero, texto=texto)
                    continue
                try:
                    segundos = hora[0] + int(ts[15:17]) * 60 + int(ts[18:20])
                except ValueError:
                    lectura.invalida(archivo=nombre, linea=numero, texto=texto)
                    continue
                partes = peticion.split(b" ")
                metodo, camino = (partes[0], partes[1]) if len(partes) >= 2 else (b"", b"")
                yield (
                    segundos,
                    hora[1],
                    hash((ip, agente)),
                    metodo,
                    camino,
                    int(estado),
                    0 if tamano == b"-" else int(tamano),
                )
    except FileNotFoundError:
        raise RegistroIlegible(
            "el archivo no existe.", where=nombre, hint="Revise la ruta de la bitácora."
        ) from None
    except IsADirectoryError:
        raise RegistroIlegible(
            "es una carpeta, no una bitácora.",
            where=nombre,
            hint="Indique los archivos access.log (o .gz) uno por uno.",
        ) from None
    except (OSError, EOFError, zlib.error) as exc:
        raise RegistroIlegible(
            f"no se puede leer después de la línea {numero} ({exc}).",
            where=nombre,
            hint="El archivo .gz está truncado o dañado; descomprímalo de nuevo o use otra copia.",
        ) from None


def _abrir(ruta: Path) -> IO[bytes]:
    with ruta.open("rb") as prueba:
        comprimido = prueba.read(2) == _GZIP_MAGIC
    return gzip.open(ruta, "rb") if comprimido else ruta.open("rb", buffering=1 << 20)


def _hora(ts: bytes) -> tuple[int, tuple[int, int]] | None:
    """``10/Oct/2000:13:55:36 -0700`` → (epoch of 13:00 local, (same, -420)); None if bad."""
    try:
        mes = _MESES[ts[3:6]]
        signo = {b"+": 1, b"-": -1}[ts[21:22]]
        desfase = signo * (int(ts[22:24]) * 60 + int(ts[24:26]))
        local = datetime(int(ts[7:11]), mes, int(ts[0:2]), int(ts[12:14]))
        if ts[2:3] + ts[6:7] + ts[11:12] + ts[20:21] != b"//: ":
            return None
    except (KeyError, ValueError):
        return None
    inicio = int((local - timedelta(minutes=desfase)).replace(tzinfo=UTC).timestamp())
    return inicio, (inicio, desfase)


@dataclass(frozen=True)
class Hora:
    """One hour of traffic, in the log's own clock."""

    inicio: datetime
    visitas: int
    paginas: int
    hits: int
    bytes: int
    visitantes: int

    @property
    def etiqueta(self) -> str:
        offset = utc_offset_name(self.inicio.utcoffset() or timedelta(0))
        return f"{self.inicio:%Y-%m-%d %H:%M} ({offset})"


@dataclass(frozen=True)
class Trafico:
    """Everything counted over one stretch of time (the period asked for, or outside it)."""

    horas: tuple[Hora, ...]
    visitas: int
    paginas: int
    hits: int
    bytes: int
    visitantes: int
    estados: tuple[tuple[int, int], ...]
    paginas_principales: tuple[tuple[str, int], ...]

    def promedio_por_hora(self) -> tuple[float, float, float]:
        """(visits, pages, hits) per hour with requests; zeros when there were none."""
        n = len(self.horas)
        if n == 0:
            return 0.0, 0.0, 0.0
        return self.visitas / n, self.paginas / n, self.hits / n


@dataclass(frozen=True)
class Memoria:
    periodo: Trafico
    fuera: Trafico
    """Requests outside ``--desde/--hasta``: the usual traffic the period is compared with."""
    lineas: int
    invalidas: int
    ejemplos_invalidos: tuple[LineaInvalida, ...]


class _Conteo:
    """The running counters of one stretch of time; see the module docstring."""

    def __init__(self) -> None:
        self.horas: dict[tuple[int, int], list[int]] = {}
        self.visitantes_hora: dict[tuple[int, int], set[int]] = {}
        self.visitantes: set[int] = set()
        self.ultimo: dict[int, int] = {}
        self.estados: Counter[int] = Counter()
        self.paginas: Counter[bytes] = Counter()
        self.vistos = 0
        self.maximo = 0

    def agregar(self, peticion: Peticion) -> None:
        segundos, hora, visitante, metodo, camino, estado, tamano = peticion
        fila = self.horas.get(hora)
        if fila is None:
            fila = self.horas[hora] = [0, 0, 0, 0]
            self.visitantes_hora[hora] = set()
        fila[2] += 1
        fila[3] += tamano
        self.estados[estado] += 1
        previo = self.ultimo.get(visitante)
        if previo is None or segundos - previo >= VISITA_SEGUNDOS:
            fila[0] += 1
        if previo is None or segundos > previo:
            self.ultimo[visitante] = segundos
        self.visitantes_hora[hora].add(visitante)
        if metodo == b"GET" and (200 <= estado < 300 or estado == 304):
            ruta = camino.split(b"?", 1)[0]
            if ruta.endswith(b"/") or ruta.endswith(b".html"):
                fila[1] += 1
                self.paginas[ruta] += 1
        if segundos > self.maximo:
            self.maximo = segundos
        self.vistos += 1
        if self.vistos % _PODA_CADA == 0:
            self._podar()

    def _podar(self) -> None:
        """Forget visitors whose next request would start a new visit anyway."""
        limite = self.maximo - VISITA_SEGUNDOS - _PODA_HOLGURA
        self.ultimo = {v: s for v, s in self.ultimo.items() if s >= limite}

    def trafico(self) -> Trafico:
        horas = []
        for (inicio, desfase), (visitas, paginas, hits, nbytes) in sorted(self.horas.items()):
            zona = timezone(timedelta(minutes=desfase))
            vistos = self.visitantes_hora[(inicio, desfase)]
            self.visitantes |= vistos
            horas.append(
                Hora(
                    inicio=datetime.fromtimestamp(inicio, zona),
                    visitas=visitas,
                    paginas=paginas,
                    hits=hits,
                    bytes=nbytes,
                    visitantes=len(vistos),
                )
            )
        return Trafico(
            horas=tuple(horas),
            visitas=sum(h.visitas for h in horas),
            paginas=sum(h.paginas for h in horas),
            hits=sum(h.hits for h in horas),
            bytes=sum(h.bytes for h in horas),
            visitantes=len(self.visitantes),
            estados=tuple(sorted(self.estados.items())),
            paginas_principales=tuple(
                (ruta.decode("utf-8", "replace"), n)
                for ruta, n in sorted(self.paginas.items(), key=lambda p: (-p[1], p[0]))[
                    :PAGINAS_PRINCIPALES
                ]
            ),
        )


def peticiones(rutas: Sequence[Path], *, lectura: Lectura) -> Iterable[Peticion]:
    """The requests of every log, merged by time (each log is in time order already)."""
    fuentes = [leer_registro(r, lectura=lectura) for r in rutas]
    if len(fuentes) == 1:
        return fuentes[0]
    return heapq.merge(*fuentes, key=itemgetter(0))


def contar(
    rutas: Sequence[Path], *, desde: datetime | None = None, hasta: datetime | None = None
) -> Memoria:
    """Visits, pages and hits of the logs at ``rutas``: requests from ``desde`` (inclusive)
    to ``hasta`` (exclusive) in ``periodo``, the others in ``fuera``."""
    for momento in (desde, hasta):
        if momento is not None and momento.tzinfo is None:
            raise ValueError("desde/hasta must be aware datetimes")
    inicio = int(desde.timestamp()) if desde is not None else None
    fin = int(hasta.timestamp()) if hasta is not None else None
    lectura = Lectura()
    periodo, fuera = _Conteo(), _Conteo()
    if inicio is None and fin is None:
        agregar = periodo.agregar
        for peticion in peticiones(rutas, lectura=lectura):
            agregar(peticion)
    else:
        for peticion in peticiones(rutas, lectura=lectura):
            t = peticion[0]
            dentro = (inicio is None or t >= inicio) and (fin is None or t < fin)
            (periodo if dentro else fuera).agregar(peticion)
    return Memoria(
        periodo=periodo.trafico(),
        fuera=fuera.trafico(),
        lineas=lectura.lineas,
        invalidas=lectura.invalidas,
        ejemplos_invalidos=tuple(lectura.ejemplos),
    )
