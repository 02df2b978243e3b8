"""``openprep simulate night``: election night driven through HTTP, as the operators would.

The package's ground truth (``verdad/<ELECCION>.csv``) says what every acta holds and how
it arrives. In arrival order, each CATD's acopiador registers its actas, its digitalizador
uploads each image (``render_acta`` of the truth's values, so its SHA-256 is the truth's
SHA) through the console or, for ORIGEN CASILLA, the PREP Casilla API, and its coordinador
registers the SIN ACTA ones. Meanwhile K capturistas loop on their queue typing the truth
(a share ``typos`` of captures with one field wrong, at most one per acta, so the double
capture always catches it) and the verificadores resolve cotejos and confirm SIN ACTA.
At the end the administrador downloads each election's database and it is compared with
the truth (:mod:`openprep.simulate.compare`).
"""

from __future__ import annotations

import csv
import random
import threading
import time
import tomllib
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openprep.core.errors import UserError
from openprep.core.model import parse_utc_offset
from openprep.core.rules import RuleSettings, motivo_de_observacion
from openprep.simulate.client import Cuenta, Operador, Rechazo
from openprep.simulate.compare import BasePrep, Diferencia, comparar, leer_base
from openprep.simulate.images import render_acta

PAUSA_SIN_TRABAJO = (0.05, 1.0)
"""An operator with nothing to do asks again after 50 ms, doubling up to 1 s."""
LIMITE_RECHAZOS = 50
_SETTINGS = RuleSettings()


class PaqueteInutilizable(UserError):
    """The simulated package lacks what the night needs."""


@dataclass(frozen=True, slots=True)
class FilaVerdad:
    """One acta of the truth: what it holds and how it arrives."""

    eleccion: str
    """The election's key (ELECCION in elecciones.csv, the truth file's name)."""
    nombre_eleccion: str
    clave_acta: str
    catd: str
    celdas: dict[str, str]
    campos: tuple[str, ...]

    @property
    def motivo_sin_acta(self) -> str:
        try:
            observacion = _SETTINGS.observacion_de_label(self.celdas.get("OBSERVACIONES", ""))
        except KeyError:
            return ""
        motivo = motivo_de_observacion(observacion) if observacion else None
        return motivo.value if motivo else ""

    @property
    def llegada(self) -> str:
        return self.celdas["FECHA_HORA_ACOPIO"] or self.celdas["FECHA_HORA_CAPTURA"]

    def valores(self) -> dict[str, str]:
        return {c: self.celdas[c] for c in self.campos if self.celdas[c] != "-"}


@dataclass(frozen=True, slots=True)
class PaqueteSimulado:
    directorio: Path
    cuentas: tuple[Cuenta, ...]
    verdad: dict[str, BasePrep]
    filas: tuple[FilaVerdad, ...]
    """Every acta of every election, in arrival order."""
    fin_publicacion: datetime

    def cuentas_de(self, rol: str, catd: str | None = None) -> list[Cuenta]:
        return [c for c in self.cuentas if c.rol == rol and catd in (None, c.catd)]


def _leer_csv(ruta: Path) -> list[dict[str, str]]:
    if not ruta.is_file():
        raise PaqueteInutilizable(
            f"falta {ruta.name}.",
            where=str(ruta.parent),
            hint="Genere el paquete con «openprep simulate package».",
        )
    lineas = ruta.read_text(encoding="utf-8-sig").splitlines()
    if lineas and lineas[0].startswith("sep="):
        lineas = lineas[1:]
    sep = "|" if lineas and "|" in lineas[0] else ","
    return [
        {k.strip(): (v or "").strip() for k, v in r.items()}
        for r in csv.DictReader(lineas, delimiter=sep)
    ]


def _clave_casilla(fila: dict[str, str]) -> str:
    return (
        f"{int(fila['ID_ESTADO']):02d}{int(fila['SECCION']):04d}{fila['TIPO_CASILLA']}"
        f"{int(fila['ID_CASILLA']):02d}{int(fila['EXT_CONTIGUA']):02d}"
    )


def leer_paquete_simulado(directorio: Path) -> PaqueteSimulado:
    """The accounts, each casilla's CATD and the truth of a simulated package."""
    cuentas = tuple(
        Cuenta(usuario=r["USUARIO"], rol=r["ROL"].lower(), catd=r["CATD"], clave=r["CLAVE"])
        for r in _leer_csv(directorio / "operadores.csv")
    )
    try:
        catd_de = {_clave_casilla(r): r["CATD"] for r in _leer_csv(directorio / "casillas.csv")}
    except (KeyError, ValueError) as exc:
        raise PaqueteInutilizable(
            f"casillas.csv no tiene la columna o el número {exc}.",
            where=str(directorio / "casillas.csv"),
            hint="Genere el paquete con «openprep simulate package».",
        ) from exc
    archivos = sorted((directorio / "verdad").glob("*.csv"))
    if not archivos:
        raise PaqueteInutilizable(
            "no hay bases de datos de verdad (verdad/<ELECCION>.csv).",
            where=str(directorio),
            hint="Genere el paquete con «openprep simulate package».",
        )
    catds = sorted({c.catd for c in cuentas if c.catd})
    verdad: dict[str, BasePrep] = {}
    filas: list[FilaVerdad] = []
    for archivo in archivos:
        base = leer_base(archivo.read_text(encoding="utf-8-sig"), origen=str(archivo))
        verdad[archivo.stem] = base
        for clave, celdas in base.filas.items():
            # An acta fuera de catálogo names no casilla of the catalog: any CATD receives it.
            catd = catd_de.get(clave[:11]) or (catds[0] if catds else "")
            filas.append(FilaVerdad(archivo.stem, base.nombre, clave, catd, celdas, base.campos))
    filas.sort(key=lambda f: (f.llegada, f.clave_acta))
    fin = _fin_publicacion(directorio / "proceso.toml")
    return PaqueteSimulado(directorio, cuentas, verdad, tuple(filas), fin)


def _fin_publicacion(ruta: Path) -> datetime:
    """When the package's publication ends: from then on a corte is the final one."""
    try:
        publicacion = tomllib.loads(ruta.read_text(encoding="utf-8"))["publicacion"]
        fin, zona = publicacion["fin"], publicacion["zona_horaria"]
        tz = parse_utc_offset(zona) or ZoneInfo(zona)
    except (OSError, KeyError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise PaqueteInutilizable(
            f"no se pudo leer publicacion.fin y publicacion.zona_horaria ({exc}).",
            where=str(ruta),
            hint="Genere el paquete con «openprep simulate package».",
        ) from exc
    return fin if fin.tzinfo else fin.replace(tzinfo=tz)


def percentil(valores: list[float], q: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not valores:
        return 0.0
    ordenados = sorted(valores)
    return ordenados[min(len(ordenados) - 1, max(0, int(q * len(ordenados) + 0.5) - 1))]


@dataclass
class ResultadoNoche:
    elecciones: dict[str, tuple[str, int, int]]
    """clave → (nombre, actas en la verdad, actas publicadas por el servidor)."""
    diferencias: list[Diferencia]
    rechazos: list[Rechazo]
    incidentes: list[str]
    contadores: Counter[str]
    latencias: dict[str, list[float]]
    segundos: float
    segundos_captura: float

    @property
    def iguales(self) -> bool:
        return not self.diferencias and not self.incidentes

    @property
    def capturas_por_segundo(self) -> float:
        n = len(self.latencias.get("captura", []))
        return n / self.segundos_captura if self.segundos_captura > 0 else 0.0


@dataclass
class Noche:
    """One drill: ``correr()`` drives the night and returns the comparison."""

    servidor: str
    paquete: PaqueteSimulado
    capturistas: int | None = None
    typos: float = 0.02
    seed: int = 1
    espera: float = 60.0
    avisar: Callable[[str], None] = lambda _: None
    listo: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _verificadas: set[str] = field(default_factory=set)
    _con_errata: set[str] = field(default_factory=set)
    _rechazos: list[Rechazo] = field(default_factory=list)
    _incidentes: list[str] = field(default_factory=list)
    _contadores: Counter[str] = field(default_factory=Counter)
    _latencias: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    _captura_inicio: float = 0.0
    _captura_fin: float = 0.0
    _avance: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self._por_clave = {f.clave_acta: f for f in self.paquete.filas}

    # -- bookkeeping (any thread) ---------------------------------------------------------

    def _medir(self, tipo: str, segundos: float) -> None:
        with self._lock:
            self._latencias[tipo].append(segundos)
            self._contadores[tipo] += 1
            self._avance = time.monotonic()

    def _rechazo(self, exc: Rechazo) -> None:
        with self._lock:
            self._rechazos.append(exc)
            demasiados = len(self._rechazos) >= LIMITE_RECHAZOS
        self.avisar(f"Rechazo: {exc}")
        if demasiados:
            self.detener(f"la noche se detuvo tras {LIMITE_RECHAZOS} peticiones rechazadas.")

    def detener(self, motivo: str) -> None:
        with self._lock:
            if not self.listo.is_set():
                self._incidentes.append(motivo)
        self.listo.set()

    def _verificada(self, clave: str) -> None:
        with self._lock:
            self._verificadas.add(clave)
            if len(self._verificadas) >= len(self._por_clave):
                self.listo.set()

    def _fila(self, clave: str) -> FilaVerdad:
        fila = self._por_clave.get(clave)
        if fila is None:
            self.detener(f"el servidor entregó el acta {clave}, que no está en la verdad.")
            raise _Alto
        return fila

    # -- the operators ----------------------------------------------------------------------

    def _operador(self, rol: str, catd: str | None = None, *, app: bool = False) -> Operador:
        cuentas = self.paquete.cuentas_de(rol, catd)
        if not cuentas:
            donde = f" de la CATD {catd}" if catd else ""
            raise PaqueteInutilizable(
                f"operadores.csv no tiene un {rol}{donde}.",
                hint="Agregue la cuenta al paquete y vuelva a importarlo.",
            )
        operador = Operador(self.servidor, cuentas[0])
        if app:
            operador.entrar_app()
        else:
            operador.entrar()
        return operador

    def _imagen(self, fila: FilaVerdad) -> bytes:
        imagen = render_acta(
            clave_acta=fila.clave_acta, eleccion=fila.nombre_eleccion, valores=fila.valores()
        )
        return imagen

    def _intake(self, catd: str, filas: list[FilaVerdad]) -> None:
        acopiador = self._operador("acopiador", catd)
        digitalizador = self._operador("digitalizador", catd)
        casilla_api = self._operador("digitalizador", catd, app=True)
        coordinador = (
            self._operador("coordinador", catd) if any(f.motivo_sin_acta for f in filas) else None
        )
        for fila in filas:
            if self.listo.is_set():
                return
            clave, celdas = fila.clave_acta, fila.celdas
            acopio = {"clave_acta": clave, "mecanismo_traslado": celdas["MECANISMOS_TRASLADO"]}
            try:
                if fila.motivo_sin_acta:
                    if celdas["FECHA_HORA_ACOPIO"]:
                        self._medir("acopio", acopiador.post("/acopio/", data=acopio).segundos)
                    assert coordinador is not None
                    r = coordinador.post(
                        "/coordinacion/sin-acta/", data={**acopio, "motivo": fila.motivo_sin_acta}
                    )
                    self._medir("sin_acta", r.segundos)
                    continue
                imagen = ("acta.png", self._imagen(fila), "image/png")
                if celdas["ORIGEN"] == "CASILLA":
                    r = casilla_api.post("/api/casilla/v1/actas/", files={"imagen": imagen})
                    self._medir("casilla_api", r.segundos)
                    self._misma_imagen(fila, r.datos)
                if celdas["FECHA_HORA_ACOPIO"]:
                    self._medir("acopio", acopiador.post("/acopio/", data=acopio).segundos)
                if celdas["ORIGEN"] != "CASILLA":
                    datos = {
                        "clave_acta": clave,
                        "tipo_documento": celdas["TIPO_DOCUMENTO"] or "ACTA PREP",
                    }
                    r = digitalizador.post("/digitalizacion/", data=datos, files={"imagen": imagen})
                    self._medir("digitalizacion", r.segundos)
                    self._misma_imagen(fila, r.datos)
            except Rechazo as exc:
                self._rechazo(exc)

    def _misma_imagen(self, fila: FilaVerdad, datos: dict[str, object]) -> None:
        if datos.get("clave_acta") != fila.clave_acta or datos.get("sha256") != fila.celdas["SHA"]:
            with self._lock:
                self._incidentes.append(
                    f"acta {fila.clave_acta}: el servidor registró la imagen como "
                    f"{datos.get('clave_acta')} con SHA {datos.get('sha256')}; la verdad dice "
                    f"SHA {fila.celdas['SHA']}."
                )

    def _errata(self, fila: FilaVerdad, valores: dict[str, str], usuario: str) -> None:
        azar = random.Random(f"{self.seed}:{fila.clave_acta}:{usuario}")
        if not self.typos or azar.random() >= self.typos:
            return
        with self._lock:
            if fila.clave_acta in self._con_errata:
                return
            self._con_errata.add(fila.clave_acta)
        campo = azar.choice(sorted(valores))
        valor = valores[campo]
        valores[campo] = str(int(valor) + azar.randint(1, 9)) if valor.isdigit() else "0"

    def _capturista(self, cuenta: Cuenta) -> None:
        operador = Operador(self.servidor, cuenta)
        operador.entrar()
        pausa = PAUSA_SIN_TRABAJO[0] / 2
        asignada = None  # claimed by the previous capture's request (siguiente=1)
        while not self.listo.is_set():
            try:
                if asignada is None:
                    r = operador.post("/captura/siguiente/")
                    self._medir("siguiente", r.segundos)
                    if r.status == 204:
                        pausa = min(pausa * 2, PAUSA_SIN_TRABAJO[1])
                        self.listo.wait(pausa)
                        continue
                    asignada = r.datos
                pausa = PAUSA_SIN_TRABAJO[0] / 2
                fila = self._fila(asignada["clave_acta"])
                valores = {c: _tecleado(fila, c) for c in _nombres(asignada["campos"])}
                self._errata(fila, valores, cuenta.usuario)
                inicio = time.perf_counter()
                asignada = None
                c = operador.post(
                    f"/captura/{fila.clave_acta}/", data={**valores, "siguiente": "1"}
                )
                asignada = c.datos.get("siguiente")
                with self._lock:
                    self._captura_inicio = self._captura_inicio or inicio
                    self._captura_fin = time.perf_counter()
                self._medir("captura", c.segundos)
                if c.datos.get("resultado") == "COTEJO":
                    self._medir("cotejo", 0.0)
                if c.datos.get("resultado") == "VERIFICADA":
                    self._verificada(fila.clave_acta)
            except Rechazo as exc:
                self._rechazo(exc)
            except _Alto:
                return

    def _verificador(self, cuenta: Cuenta) -> None:
        operador = Operador(self.servidor, cuenta)
        operador.entrar()
        pausa = PAUSA_SIN_TRABAJO[0] / 2
        while not self.listo.is_set():
            try:
                r = operador.post("/verificacion/siguiente/")
                self._medir("siguiente_verificacion", r.segundos)
                if r.status == 204:
                    pausa = min(pausa * 2, PAUSA_SIN_TRABAJO[1])
                    self.listo.wait(pausa)
                    continue
                pausa = PAUSA_SIN_TRABAJO[0] / 2
                fila = self._fila(r.datos["clave_acta"])
                if r.datos.get("tipo") == "SIN_ACTA":
                    datos = {"confirmar": "1"}
                else:
                    datos = {c: _tecleado(fila, c) for c in _nombres(r.datos["campos"])}
                v = operador.post(f"/verificacion/{fila.clave_acta}/", data=datos)
                self._medir("verificacion", v.segundos)
                if v.datos.get("estado") == "VERIFICADA":
                    self._verificada(fila.clave_acta)
            except Rechazo as exc:
                self._rechazo(exc)
            except _Alto:
                return

    def _elegir_capturistas(self) -> list[Cuenta]:
        """K capturistas, taken in turn from each CATD so that every CATD has some."""
        por_catd: dict[str, list[Cuenta]] = defaultdict(list)
        for cuenta in self.paquete.cuentas_de("capturista"):
            por_catd[cuenta.catd].append(cuenta)
        turnos = [c for grupo in _intercalar(list(por_catd.values())) for c in grupo]
        elegidos = turnos[: self.capturistas] if self.capturistas else turnos
        if len(elegidos) < 2:
            raise PaqueteInutilizable(
                "se necesitan al menos 2 capturistas (la captura es doble y ciega).",
                hint="Use --operators 2 o más y revise operadores.csv.",
            )
        return elegidos

    # -- the night ------------------------------------------------------------------------------

    def comparar(self) -> ResultadoNoche:
        """Only the end of the night: download each database and compare it with the truth."""
        return self._resultado(self._operador("administrador"), segundos=0.0)

    def correr(self) -> ResultadoNoche:
        inicio = time.monotonic()
        por_catd: dict[str, list[FilaVerdad]] = defaultdict(list)
        for fila in self.paquete.filas:
            por_catd[fila.catd].append(fila)
        capturistas = self._elegir_capturistas()
        verificadores = self.paquete.cuentas_de("verificador")
        administrador = self._operador("administrador")  # fails early on a wrong password
        if not verificadores:
            raise PaqueteInutilizable("operadores.csv no tiene verificadores.")
        tareas = [(self._intake, (catd, filas)) for catd, filas in sorted(por_catd.items())]
        tareas += [(self._capturista, (c,)) for c in capturistas]
        tareas += [(self._verificador, (v,)) for v in verificadores]
        with ThreadPoolExecutor(max_workers=len(tareas)) as pool:
            futuros = [pool.submit(self._proteger, f, *args) for f, args in tareas]
            n_intake = len(por_catd)
            while not self.listo.wait(0.2):
                intake_listo = all(f.done() for f in futuros[:n_intake])
                if intake_listo and time.monotonic() - self._avance > self.espera:
                    faltan = len(self._por_clave) - len(self._verificadas)
                    self.detener(
                        f"la noche se detuvo: {faltan} actas sin verificar tras "
                        f"{self.espera:.0f} s sin avance."
                    )
            for futuro in futuros:
                futuro.result()
        segundos = time.monotonic() - inicio
        return self._resultado(administrador, segundos=segundos)

    def _proteger(self, tarea: Callable[..., None], *args: object) -> None:
        """A thread's fatal error stops the night and is reported, never swallowed."""
        try:
            tarea(*args)
        except (UserError, Rechazo) as exc:
            self.detener(str(exc))
        except Exception as exc:  # a broken invariant: stop everyone, report it with its trace
            self.avisar(traceback.format_exc())
            self.detener(f"error inesperado en {tarea.__name__}: {exc!r}")

    def _resultado(self, administrador: Operador, *, segundos: float) -> ResultadoNoche:
        elecciones: dict[str, tuple[str, int, int]] = {}
        diferencias: list[Diferencia] = []
        for clave, verdad in self.paquete.verdad.items():
            ruta = f"/coordinacion/base/{clave}.csv"
            try:
                texto = administrador.get(ruta).contenido.decode("utf-8-sig")
            except Rechazo as exc:
                self._rechazos.append(exc)
                diferencias.append(Diferencia(clave, "", "BASE", "descargada", exc.mensaje))
                elecciones[clave] = (verdad.nombre, len(verdad.filas), 0)
                continue
            servidor = leer_base(texto, origen=f"{self.servidor}{ruta}")
            final = datetime.now(UTC) >= self.paquete.fin_publicacion
            diferencias += comparar(clave, verdad=verdad, servidor=servidor, final=final)
            elecciones[clave] = (verdad.nombre, len(verdad.filas), len(servidor.filas))
        return ResultadoNoche(
            elecciones=elecciones,
            diferencias=diferencias,
            rechazos=list(self._rechazos),
            incidentes=list(self._incidentes),
            contadores=Counter(self._contadores),
            latencias=dict(self._latencias),
            segundos=segundos,
            segundos_captura=self._captura_fin - self._captura_inicio,
        )


class _Alto(Exception):
    """A thread stops because the night was stopped."""


def _tecleado(fila: FilaVerdad, campo: str) -> str:
    """What an operator types for a field: the truth's value; a field the sheet does not
    have (``-`` in the truth: off this acta's ballot) is left blank, SIN DATO."""
    valor = fila.celdas.get(campo, "-")
    return "SIN DATO" if valor == "-" else valor


def _nombres(campos: list[object]) -> list[str]:
    """Field names from a queue answer (plain names, or objects with a ``campo``)."""
    return [str(c["campo"]) if isinstance(c, dict) else str(c) for c in campos]


def _intercalar(grupos: list[list[Cuenta]]) -> list[list[Cuenta]]:
    """Round-robin: the first of each group, then the second of each …"""
    largo = max((len(g) for g in grupos), default=0)
    return [[g[i] for g in grupos if i < len(g)] for i in range(largo)]
