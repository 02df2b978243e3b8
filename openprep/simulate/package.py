"""A synthetic election package for drills and benchmarks, with its ground truth.

:func:`write_package` writes, for an invented state of the requested size, the election
package of ``docs/paquete-electoral.md`` (``openprep catalog import DIR`` loads it), with
its CATDs (one per distrito), the CATD of every casilla and the accounts a night needs
(``operadores.csv``), and under ``verdad/`` what a perfect night publishes: one PREP
database per election (:mod:`openprep.simulate.truth`) and a LEEME. Everything is a pure
function of the seed: the same seed writes the same bytes.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import random
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from openprep.accounts.models import Rol
from openprep.catalog.package_spec import COLUMNAS_CASILLAS
from openprep.core import model as core
from openprep.simulate.ballots import EleccionSimulada, elecciones
from openprep.simulate.geography import ENTIDAD, ID_ENTIDAD, ZONA_HORARIA, Territorio, construir
from openprep.simulate.truth import ResumenVerdad, escribir_verdad, workers_por_defecto
from openprep.simulate.votes import Jornada, Proporciones

JORNADA = date(2027, 6, 6)
"""Default election day (a Sunday): in the future, so the catalog is not locked yet."""
CIERRE = (18, 0)
"""Polls close at 18:00 local time."""
INICIO_PUBLICACION = (19, 0)
ADMINISTRADOR = "admin.simulacro"


@dataclass(frozen=True, slots=True)
class Cuenta:
    usuario: str
    rol: Rol
    catd: str
    clave: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class PackageSummary:
    """What :func:`write_package` wrote."""

    out: Path
    casillas: int
    secciones: int
    distritos: int
    municipios: int
    catds: tuple[str, ...]
    cuentas: tuple[Cuenta, ...]
    verdad: dict[str, ResumenVerdad]
    """Per election clave (GUB, DIP, AYUN): its truth file and summary."""
    zona_horaria: str
    segundos: float


def write_package(
    *,
    out: Path,
    casillas: int,
    seed: int,
    capturistas_por_catd: int = 4,
    jornada: date = JORNADA,
    workers: int | None = None,
    **shares: float,
) -> PackageSummary:
    """Write the package, its accounts and its truth to ``out`` (created if needed).

    ``shares`` are the fields of :class:`~openprep.simulate.votes.Proporciones`
    (``ilegible=0.01``, ``sin_dato=0.01``, ``todos_ilegibles=0.001``,
    ``excede_lista_nominal=0.003``, ``sin_acta=0.01``, ``fuera_catalogo=0.002``,
    ``prep_casilla=0.6``); an unknown name is a ``TypeError``. ``workers`` processes
    render the acta images (default: every CPU); the bytes do not depend on it.
    """
    inicio = time.perf_counter()
    proporciones = Proporciones(**shares)
    territorio = construir(casillas=casillas, rng=random.Random(f"{seed}:geografia"))
    boletas = elecciones(territorio, rng=random.Random(f"{seed}:boletas"))
    cuentas = _cuentas(territorio, seed=seed, capturistas=capturistas_por_catd)
    out.mkdir(parents=True, exist_ok=True)
    _proceso(out, jornada=jornada)
    _csv(
        out / "elecciones.csv",
        ["ELECCION", "NOMBRE", "AMBITO", "TIPO_ACTA", "TIPO_ACTA_ESPECIAL"],
        ([e.clave, e.nombre, e.ambito, e.tipo_acta, e.tipo_acta_especial] for e in boletas),
    )
    _casillas(out, territorio)
    _contendientes(out, boletas)
    _csv(out / "catd.csv", ["CLAVE", "NOMBRE"], territorio.catds.items())
    _csv(
        out / "operadores.csv",
        ["USUARIO", "ROL", "CATD", "CLAVE"],
        ([c.usuario, c.rol.value, c.catd, c.clave] for c in cuentas),
    )
    cierre = datetime.combine(jornada, datetime.min.time()).replace(
        hour=CIERRE[0], minute=CIERRE[1]
    )
    dia = Jornada(seed=seed, cierre=cierre, proporciones=proporciones)
    llegadas = [dia.llegada(sim) for sim in territorio.casillas]
    corte = core.format_corte(_fin(jornada), tz=ZoneInfo(ZONA_HORARIA))
    verdad = {
        e.clave: escribir_verdad(
            out=out / "verdad" / f"{e.clave}.csv",
            eleccion=e,
            territorio=territorio,
            llegadas=llegadas,
            jornada=dia,
            corte=corte,
            seed=seed,
            workers=workers or workers_por_defecto(),
        )
        for e in boletas
    }
    (out / "verdad" / "LEEME.md").write_text(_leeme(boletas, corte), encoding="utf-8")
    return PackageSummary(
        out=out,
        casillas=len(territorio.casillas),
        secciones=territorio.secciones,
        distritos=len(territorio.distritos),
        municipios=len(territorio.municipios),
        catds=tuple(territorio.catds),
        cuentas=cuentas,
        verdad=verdad,
        zona_horaria=ZONA_HORARIA,
        segundos=time.perf_counter() - inicio,
    )


def _fin(jornada: date) -> datetime:
    tz = ZoneInfo(ZONA_HORARIA)
    inicio = datetime.combine(jornada, datetime.min.time(), tzinfo=tz).replace(
        hour=INICIO_PUBLICACION[0], minute=INICIO_PUBLICACION[1]
    )
    return inicio + timedelta(hours=24)


def _proceso(out: Path, *, jornada: date) -> None:
    inicio = datetime.combine(jornada, datetime.min.time()).replace(
        hour=INICIO_PUBLICACION[0], minute=INICIO_PUBLICACION[1]
    )
    fin = inicio + timedelta(hours=24)
    (out / "proceso.toml").write_text(
        "# Paquete electoral de un simulacro: entidad, casillas y candidaturas ficticias.\n"
        "[instituto]\n"
        f'nombre = "Instituto Electoral de {ENTIDAD.title()} (simulacro)"\n\n'
        "[entidad]\n"
        f"id = {ID_ENTIDAD}\n"
        f'nombre = "{ENTIDAD}"\n\n'
        "[publicacion]\n"
        f'zona_horaria = "{ZONA_HORARIA}"\n'
        f"inicio = {inicio.isoformat()}\n"
        "intervalo_minutos = 15\n"
        f"fin = {fin.isoformat()}\n\n"
        "[reglas]\n"
        'representantes = "contendientes"\n'
        "boletas_especial = 750\n"
        'etiquetas = "referencia"\n',
        encoding="utf-8",
    )


def _csv(path: Path, columnas: list[str], filas) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columnas)
        writer.writerows(filas)


def _casillas(out: Path, territorio: Territorio) -> None:
    columnas = [*COLUMNAS_CASILLAS, "CATD"]
    _csv(
        out / "casillas.csv",
        columnas,
        (
            [
                c.id_entidad,
                c.entidad,
                c.id_distrito,
                c.distrito,
                c.id_municipio,
                c.municipio,
                c.seccion,
                c.tipo,
                c.id_casilla,
                c.ext_contigua,
                c.ubicacion,
                s.lista_nominal,
                s.catd,
            ]
            for s in territorio.casillas
            for c in (s.casilla,)
        ),
    )


def _contendientes(out: Path, boletas: tuple[EleccionSimulada, ...]) -> None:
    filas = []
    for e in boletas:
        orden = {c: i + 1 for i, c in enumerate(e.columnas)}
        for k in e.candidaturas:
            territorio = "TODOS" if k.territorio is None else k.territorio
            filas.append(
                [e.clave, territorio, orden[k.columna], k.columna, k.propietario, k.suplente]
            )
    _csv(
        out / "contendientes.csv",
        [
            "ELECCION",
            "ID_TERRITORIO",
            "ORDEN",
            "PARTIDO_CI",
            "CANDIDATURA_PROPIETARIA",
            "CANDIDATURA_SUPLENTE",
        ],
        filas,
    )


def _cuentas(territorio: Territorio, *, seed: int, capturistas: int) -> tuple[Cuenta, ...]:
    """Per CATD: acopiador, digitalizador, capturistas, two verificadores, a coordinador;
    and one administrador."""
    roles = [
        ("acopiador", Rol.ACOPIADOR),
        ("digitalizador", Rol.DIGITALIZADOR),
        *((f"capturista{k}", Rol.CAPTURISTA) for k in range(1, capturistas + 1)),
        ("verificador1", Rol.VERIFICADOR),
        ("verificador2", Rol.VERIFICADOR),
        ("coordinador", Rol.COORDINADOR),
    ]
    cuentas = [
        Cuenta(usuario, rol, catd, clave_de(seed=seed, usuario=usuario))
        for catd in territorio.catds
        for nombre, rol in roles
        for usuario in (f"{catd.lower()}.{nombre}",)
    ]
    cuentas.append(
        Cuenta(ADMINISTRADOR, Rol.ADMINISTRADOR, "", clave_de(seed=seed, usuario=ADMINISTRADOR))
    )
    return tuple(cuentas)


def clave_de(*, seed: int, usuario: str) -> str:
    """A drill password: derived from the seed, 19 characters, passes Django's validators."""
    digest = hashlib.sha256(f"openprep-simulacro|{seed}|{usuario}".encode()).digest()
    letras = base64.b32encode(digest).decode().lower()[:16]
    return "-".join(letras[i : i + 4] for i in range(0, 16, 4))


def _leeme(boletas: tuple[EleccionSimulada, ...], corte: str) -> str:
    archivos = "\n".join(f"- `{e.clave}.csv`: {e.nombre}" for e in boletas)
    return f"""# Verdad del simulacro

Estos archivos dicen lo que debe publicar una noche perfecta con este paquete: son el
**último corte** ({corte}) de cada elección, en el formato de la base de datos PREP
(el mismo de la publicación; vea el LEEME de la base de datos). No los entregue al
personal del simulacro: contienen las respuestas.

{archivos}

- Cada acta esperada está registrada y verificada; sus valores son los del acta
  (números, `ILEGIBLE` o `SIN DATO`) y las columnas que no están en su boleta dicen `-`.
- `SHA` es el SHA-256 de la imagen del acta, que `openprep.simulate.images.render_acta`
  vuelve a generar, idéntica, a partir de la fila. Las actas SIN ACTA no tienen imagen.
- Las actas fuera de catálogo van al final, con `CLAVE_CASILLA` y `TIPO_ACTA` `-`;
  su sección sí está en el catálogo.
- `FECHA_HORA_ACOPIO` es la hora local de llegada prevista: la foto desde la casilla
  (ORIGEN `CASILLA`) o el paquete en su CATD (ORIGEN `CATD`).

`openprep audit verdad/<ELECCION>.csv` debe terminar sin discrepancias.
"""
