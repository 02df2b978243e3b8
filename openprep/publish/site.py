"""The public results site of a corte: static HTML, JSON, CSS and a little JavaScript.

:func:`write_site` writes into the corte folder (``<publicación>/cortes/<id>/``)::

    index.html                 the elections, each with its summary
    observaciones.html         actas per observation, per election and territory
    descargas.html             the zips with size and SHA-256; how to check hashes and signature
    datos.json                 the corte and every election's summary
    recursos/sitio.css, sitio.js
    <CLAVE>/index.html         summary, votes (table and chart), progress, territories
    <CLAVE>/datos.json         the same figures for programs
    <CLAVE>/secciones.json     which page holds each sección (the JS search loads it)
    <CLAVE>/<nivel>-<id>.html  a distrito or municipio: figures, votes, secciones, actas
    <CLAVE>/<nivel>-<id>-<n>.html   its actas, part n, when one page would pass the limit
    <CLAVE>/<nivel>-<id>.json  its figures and every sección's
    <CLAVE>/fuera-de-catalogo.html  actas that match no expected acta, if any

Acta images live outside the corte at ``<publicación>/imagenes/<sha256>``. Every link is
relative and no page busts frames, so the site embeds unchanged in an iframe. Numbers are
the database's strings: percentages come from the core's ``truncated_percentage``.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from django.template import Context, Engine
from django.utils.safestring import mark_safe

from openprep.core.errors import UserError
from openprep.core.model import ActaRecord, Casilla, Election, parse_corte
from openprep.core.rules import Decision, Participacion, RuleSettings
from openprep.core.tabla import tabla_de_filas
from openprep.core.tally import SUMMARY_FIELDS
from openprep.publish.folder import FileDigest
from openprep.publish.site_data import agrupar, esperadas_tabla
from openprep.publish.site_eleccion import Plan, escribir_eleccion
from openprep.publish.site_pages import IMAGENES, Hecho, escribir_territorio

SITE_DIR = Path(__file__).resolve().parent.parent / "site"
ASSETS = ("sitio.css", "sitio.js")
RESERVED = {"recursos", "descargas", "imagenes", "cortes"}
_CLAVE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
_SHA_RE = re.compile(r"[0-9a-f]{64}")
_AMBITOS = ("entidad", "distrito", "municipio")
_TABLA = "\x00tabla\x00"
"""Where :meth:`Pagina.con_tabla` puts a page's acta table (no text of a page holds NUL)."""


class SiteError(UserError):
    """Data the public site cannot be written from."""


@dataclass(frozen=True)
class SiteElection:
    clave: str
    nombre: str
    ambito: str
    election: Election
    summary: Mapping[str, str]
    rows: Sequence[tuple[ActaRecord, Decision]]
    """Decided actas as rows: those fuera de catálogo and, without ``tabla``, all."""
    download: str
    download_size: int
    download_sha256: str
    esperadas: Sequence[Casilla] | pl.DataFrame = ()
    """The casilla of every expected acta (or a frame of their :data:`tabla.CASILLA`
    fields): gives each territory its ACTAS_ESPERADAS."""
    settings: RuleSettings | None = None
    """Observation labels and participation rule; by default the reference labels and
    the participation of the corte (final or in operation)."""
    tabla: pl.DataFrame | None = None
    """The actas of the catalog decided as columns (:func:`openprep.core.tabla.decidir`),
    as the corte builder passes them; ``rows`` then holds only those fuera de catálogo."""

    def catalogo(self) -> pl.DataFrame:
        """The decided actas of the catalog as columns, from ``tabla`` or from ``rows``."""
        if self.tabla is not None:
            return self.tabla
        rows = (row for row in self.rows if not row[0].fuera_catalogo)
        return tabla_de_filas(rows, election=self.election)

    def fuera(self) -> list[tuple[ActaRecord, Decision]]:
        return [row for row in self.rows if row[0].fuera_catalogo]


@dataclass(frozen=True)
class SiteDifusor:
    """A difusor oficial as the site lists it: a link (and logo) while it is updated, a
    notice instead once it is suspended (seed 001)."""

    nombre: str
    enlace: str
    logo: str
    """The logo's path inside the corte, or empty."""
    aviso: str


@dataclass(frozen=True)
class SiteCorte:
    instituto: str
    entidad: str
    numero: int
    fecha_hora: str
    final: bool
    elections: Sequence[SiteElection]
    public_key: str
    principal: str
    history: Sequence[tuple[str, str, int, int]]
    nav: Sequence[tuple[str, str]] = ()
    """(clave, nombre) of every election of the corte, for the menu; by default the
    ``elections``'. A worker writing one election's pages holds only that election."""
    difusores: Sequence[SiteDifusor] = ()


@dataclass(frozen=True)
class EleccionEscrita:
    """What the corte's root pages need of an election whose pages are written."""

    clave: str
    paths: list[Path]
    digests: dict[Path, FileDigest]
    """Size and SHA-256 of each of ``paths``, hashed as it was written."""
    estadistica: dict[str, Any]


@dataclass
class Pagina:
    """Renders templates and collects the files written."""

    folder: Path
    corte: SiteCorte
    engine: Engine
    written: list[Path]
    digests: dict[Path, FileDigest] = field(default_factory=dict)
    """Size and SHA-256 of each file written, hashed as it was written."""

    def base(self, *, raiz: str, actual: str) -> dict[str, object]:
        corte = self.corte
        try:
            iso = parse_corte(corte.fecha_hora)[0].isoformat()
        except ValueError:
            iso = ""
        return {
            "raiz": raiz,
            "corte": corte,
            "iso": iso,
            "actual": actual,
            "nav": [
                {"clave": clave, "nombre": nombre}
                for clave, nombre in (corte.nav or [(e.clave, e.nombre) for e in corte.elections])
            ],
        }

    def render(self, relative: str, template: str, context: dict[str, object]) -> str:
        ctx = self.base(raiz="../" * relative.count("/"), actual=str(context.get("actual", "")))
        ctx.update(context)
        return self.engine.get_template(f"site/{template}").render(Context(ctx))

    def html(self, relative: str, template: str, context: dict[str, object]) -> None:
        self.text(relative, self.render(relative, template, context))

    def con_tabla(
        self, relative: str, template: str, context: dict[str, object], tabla: Sequence[bytes]
    ) -> list[bytes]:
        """The page as UTF-8 pieces, its ``{{ tabla }}`` the pieces of an acta table
        (:func:`site_html.tabla_actas`). A territory's table runs to 400 KB: the template
        engine would copy it at every level of the page; this way it is never copied."""
        if not tabla:
            return [self.render(relative, template, {**context, "tabla": ""}).encode()]
        page = self.render(relative, template, {**context, "tabla": mark_safe(_TABLA)})
        head, found, tail = page.partition(_TABLA)
        assert found and _TABLA not in tail, template
        return [head.encode(), *tabla, tail.encode()]

    def text(self, relative: str, text: str) -> None:
        self.pieces(relative, [text.encode()])

    def pieces(self, relative: str, pieces: Iterable[bytes]) -> None:
        path = self.folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        with path.open("wb") as out:
            for piece in pieces:
                out.write(piece)
                digest.update(piece)
                size += len(piece)
        self.written.append(path)
        self.digests[path] = FileDigest(size=size, sha256=digest.hexdigest())

    def json(self, relative: str, document: object) -> None:
        self.text(relative, json.dumps(document, ensure_ascii=False, separators=(",", ":")))


def _check(corte: SiteCorte, *, rows: bool = True) -> None:
    """Refuse, before writing anything, data that would give broken or unsafe pages
    (``rows``: check every acta too)."""
    seen: set[str] = set()
    for e in corte.elections:
        where = f"elección {e.clave!r}"
        if not _CLAVE_RE.fullmatch(e.clave) or e.clave.lower() in RESERVED:
            raise SiteError(
                "la clave no sirve como nombre de carpeta del sitio.",
                where=where,
                hint="Use letras, dígitos, «_» o «-» (hasta 40), sin nombres reservados "
                f"({', '.join(sorted(RESERVED))}).",
            )
        if e.clave.lower() in seen:
            raise SiteError(
                "la clave está repetida.", where=where, hint="Cada elección necesita su clave."
            )
        seen.add(e.clave.lower())
        if e.ambito not in _AMBITOS:
            raise SiteError(
                f"ámbito {e.ambito!r} desconocido.", where=where, hint=f"Use {', '.join(_AMBITOS)}."
            )
        missing = [f for f in SUMMARY_FIELDS if f not in e.summary]
        if missing:
            raise SiteError(f"al resumen le faltan {', '.join(missing)}.", where=where)
        if "/" in e.download or "\\" in e.download or e.download in ("", ".", ".."):
            raise SiteError(
                f"el nombre de la descarga {e.download!r} no es un nombre de archivo.", where=where
            )
        if rows:
            _check_shas(e, where=where)


def _check_shas(e: SiteElection, *, where: str) -> None:
    """Every acta's SHA is empty or 64 hexadecimal digits (it becomes a link)."""
    claves = [(acta.sha, acta.clave_acta) for acta, _ in e.rows]
    if e.tabla is not None:
        bad = e.tabla.filter(
            (pl.col("sha") != "") & ~pl.col("sha").str.contains(f"^{_SHA_RE.pattern}$")
        )
        claves += [
            (sha, clave + (tipo_acta.zfill(2) if tipo_acta.isdigit() else tipo_acta))
            for sha, clave, tipo_acta in bad.select("sha", "clave", "tipo_acta").iter_rows()
        ]
    for sha, clave in claves:
        if sha and not _SHA_RE.fullmatch(sha):
            raise SiteError(
                f"el SHA {sha!r} no es un SHA-256 en hexadecimal.",
                where=f"{where}, acta {clave}",
                hint="Corrija el registro de la imagen del acta antes de publicar.",
            )


def _pagina(folder: Path, corte: SiteCorte) -> Pagina:
    engine = Engine(dirs=[str(SITE_DIR / "templates")], autoescape=True)
    return Pagina(folder=folder, corte=corte, engine=engine, written=[])


def write_site(folder: Path, corte: SiteCorte) -> list[Path]:
    """Write the site of ``corte`` into ``folder`` (the corte folder); return the files written.

    Nothing is written when the data is refused (:class:`SiteError`).
    """
    _check(corte)
    pagina = _pagina(folder, corte)
    escritas = _write_elections(pagina, corte.elections)
    _write_root(pagina, escritas)
    return pagina.written


def write_election_site(folder: Path, corte: SiteCorte) -> EleccionEscrita:
    """Write the pages of the one election ``corte`` holds (its ``nav`` names the others):
    what the corte builder does for each election, in a thread of its own.

    Nothing is written when the data is refused (:class:`SiteError`).
    """
    (e,) = corte.elections
    _check(corte)
    pagina = _pagina(folder, corte)
    (escrita,) = _write_elections(pagina, [e])
    return escrita


def write_site_root(
    folder: Path, corte: SiteCorte, escritas: Sequence[EleccionEscrita]
) -> list[Path]:
    """Write the corte's root pages once every election's pages are written (by
    :func:`write_election_site`); ``corte.elections`` need no rows. Return every file of
    the site."""
    _check(corte, rows=False)
    pagina = _pagina(folder, corte)
    _write_root(pagina, escritas)
    return pagina.written


def _write_elections(pagina: Pagina, elections: Sequence[SiteElection]) -> list[EleccionEscrita]:
    """Every page of ``elections``: territories, then each election's page and JSON."""
    corte = pagina.corte
    planes = []
    for e in elections:
        settings = e.settings or RuleSettings(
            participacion=Participacion.FINAL if corte.final else Participacion.OPERACION
        )
        grupos = agrupar(
            election=e.election,
            ambito=e.ambito,
            tabla=e.catalogo(),
            fuera=e.fuera(),
            esperadas=esperadas_tabla(e.esperadas),
            labels=settings.labels,
            imagenes=IMAGENES,
            participacion=settings.participacion,
        )
        planes.append(Plan(e=e, settings=settings, grupos=grupos))
    escritas = []
    for plan in planes:
        territorios = [_territorio(pagina, plan, j) for j in range(len(plan.grupos.territorios))]
        paths: list[Path] = []
        for hecho in territorios:
            paths.extend(hecho.paths)
        election_page = Pagina(
            folder=pagina.folder,
            corte=corte,
            engine=pagina.engine,
            written=paths,
            digests={k: v for hecho in territorios for k, v in hecho.digests.items()},
        )
        estadistica = escribir_eleccion(election_page, plan, territorios)
        escritas.append(
            EleccionEscrita(
                clave=plan.e.clave,
                paths=paths,
                digests=election_page.digests,
                estadistica=estadistica,
            )
        )
    return escritas


def _territorio(pagina: Pagina, plan: Plan, j: int) -> Hecho:
    territorios = plan.grupos.territorios
    return escribir_territorio(
        Pagina(folder=pagina.folder, corte=pagina.corte, engine=pagina.engine, written=[]),
        plan.e,
        territorios[j],
        settings=plan.settings,
        vecinos=(
            territorios[j - 1] if j else None,
            territorios[j + 1] if j + 1 < len(territorios) else None,
        ),
        con_esperadas=len(plan.e.esperadas) > 0,
    )


def _write_root(pagina: Pagina, escritas: Sequence[EleccionEscrita]) -> None:
    corte = pagina.corte
    for escrita in escritas:
        pagina.written.extend(escrita.paths)
    (pagina.folder / "recursos").mkdir(parents=True, exist_ok=True)
    for asset in ASSETS:
        target = pagina.folder / "recursos" / asset
        shutil.copyfile(SITE_DIR / "assets" / asset, target)
        pagina.written.append(target)
    estadisticas = [x.estadistica for x in escritas]
    resumenes = [
        {"clave": e.clave, "nombre": e.nombre, "resumen": dict(e.summary)} for e in corte.elections
    ]
    pagina.html(
        "index.html",
        "index.html",
        {
            "titulo": "Resultados",
            "actual": "inicio",
            "elecciones": resumenes,
            "difusores": [d for d in corte.difusores if not d.aviso],
            "avisos": [d for d in corte.difusores if d.aviso],
        },
    )
    pagina.html(
        "observaciones.html",
        "observaciones.html",
        {
            "titulo": "Observaciones de las actas",
            "actual": "observaciones",
            "elecciones": estadisticas,
        },
    )
    pagina.html(
        "descargas.html",
        "descargas.html",
        {"titulo": "Descargas y verificación", "actual": "descargas"},
    )
    pagina.json(
        "datos.json",
        {
            "instituto": corte.instituto,
            "entidad": corte.entidad,
            "corte": {"numero": corte.numero, "fecha_hora": corte.fecha_hora, "final": corte.final},
            "elecciones": [
                {**r, "pagina": f"{r['clave']}/index.html", "datos": f"{r['clave']}/datos.json"}
                for r in resumenes
            ],
            "difusores": [
                {"nombre": d.nombre, "enlace": d.enlace, "aviso": d.aviso} for d in corte.difusores
            ],
        },
    )


__all__ = [
    "EleccionEscrita",
    "SiteCorte",
    "SiteDifusor",
    "SiteElection",
    "SiteError",
    "write_election_site",
    "write_site",
    "write_site_root",
]
