"""A territory's pages: figures, votes, secciones and every acta, each page under the limit.

A national distrito's actas (about 600) fit its page; a large municipio's may not (some
hold 2,500 casillas). The page is rendered whole and measured; when it passes
:data:`PAGE_BUDGET` bytes its actas move, whole secciones at a time, to numbered pages of
at most :data:`ROWS_PER_PART` bytes of rows each, and the secciones table links every
sección to the page that holds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.utils.safestring import mark_safe

from openprep.core.rules import Observacion, RuleSettings
from openprep.core.tally import SUMMARY_FIELDS, TerritoryTally
from openprep.publish import site_html as h
from openprep.publish.folder import FileDigest
from openprep.publish.site_data import (
    Grupo,
    Territorio,
    figuras,
    rangos,
    votos_con_porcentaje,
)

if TYPE_CHECKING:
    from openprep.publish.site import Pagina, SiteElection

PAGE_LIMIT = 500_000
PAGE_BUDGET = 470_000
ROWS_PER_PART = 400_000
IMAGENES = "../../../imagenes/"
"""From a page in ``<corte>/<CLAVE>/`` to ``<publicación>/imagenes/``."""


def _partes(grupos: list[Grupo]) -> list[list[Grupo]]:
    partes: list[list[Grupo]] = [[]]
    size = 0
    for grupo in grupos:
        if partes[-1] and size + grupo[2] > ROWS_PER_PART:
            partes.append([])
            size = 0
        partes[-1].append(grupo)
        size += grupo[2]
    return partes


def _cuerpos(grupos: list[Grupo]) -> list[bytes]:
    return [html for _, html, _ in grupos]


def _vecino(t: Territorio | None) -> dict[str, str] | None:
    return None if t is None else {"titulo": t.titulo, "pagina": f"{t.slug}.html"}


@dataclass(frozen=True)
class Hecho:
    """What the election page needs of a written territory (small: it may cross processes)."""

    paths: list[Path]
    digests: dict[Path, FileDigest]
    tally: TerritoryTally
    paginas: list[dict[str, Any]]
    """Which page holds which secciones, as ``[first, last]`` runs (for ``secciones.json``)."""
    observaciones: dict[Observacion | None, int]


def escribir_territorio(
    pagina: Pagina,
    e: SiteElection,
    t: Territorio,
    *,
    settings: RuleSettings,
    vecinos: tuple[Territorio | None, Territorio | None],
    con_esperadas: bool,
) -> Hecho:
    """Write the territory's pages and JSON (its actas grouped and tallied by ``agrupar``)."""
    election = e.election
    assert t.tally is not None
    participacion = settings.participacion
    grupos, especiales = t.ordinarias, t.especiales
    main = f"{t.slug}.html"
    relative = f"{e.clave}/{main}"
    titulo = f"{e.nombre}: {t.titulo}"
    votos = votos_con_porcentaje(t.tally, election=election)
    fields = figuras(t.tally, participacion=participacion)
    sec_fields = {s: seccion.resumen for s, seccion in t.secciones.items()}
    context: dict[str, Any] = {
        "titulo": titulo,
        "actual": e.clave,
        "e": e,
        "t": t,
        "resumen": fields,
        "con_esperadas": con_esperadas,
        "votos": [
            {"nombre": h.nombre_corto(c), "clave": c, "tipo": h.KIND_NAMES[k]}
            | {"votos": v, "porcentaje": p}
            for c, k, v, p in votos
        ],
        "total_votos": str(t.tally.total_votos),
        "barras": mark_safe(h.grafica_barras(votos, titulo=f"Votos, {titulo}")),
        "especiales": mark_safe(
            b"".join(
                h.tabla_actas(
                    election,
                    _cuerpos(especiales),
                    ident="especiales-tabla",
                    caption=f"Actas de casillas especiales, {t.titulo}",
                )
            ).decode()
        )
        if especiales
        else "",
        "anterior": _vecino(vecinos[0]),
        "siguiente": _vecino(vecinos[1]),
    }

    def main_page(partes: list[tuple[str, list[Grupo]]]) -> tuple[list[bytes], dict[int, str]]:
        donde = {s: f"{'' if p == main else p}#s{s}" for p, gs in partes for s, _, _ in gs}
        for s, _, _ in especiales:
            donde.setdefault(s, "#especiales")
        unica = partes[0][0] == main
        context["secciones"] = mark_safe(
            h.filas_secciones(
                [(s, f, donde.get(s, "")) for s, f in sec_fields.items()],
                con_esperadas=con_esperadas,
            )
        )
        tabla = (
            h.tabla_actas(election, _cuerpos(grupos), ident="actas", caption=f"Actas de {t.titulo}")
            if unica and grupos
            else []
        )
        context["partes"] = (
            []
            if unica
            else [{"pagina": p, "desde": gs[0][0], "hasta": gs[-1][0]} for p, gs in partes]
        )
        return pagina.con_tabla(relative, "territorio.html", context, tabla), donde

    # A page whose actas alone pass the budget needs no rendering to find out.
    cabe = sum(len(html) for _, html, _ in grupos) <= PAGE_BUDGET
    if cabe:
        page, donde = main_page([(main, grupos)])
        cabe = sum(map(len, page)) <= PAGE_BUDGET
    if not cabe:
        partes = [(f"{t.slug}-{n}.html", p) for n, p in enumerate(_partes(grupos), start=1)]
        page, donde = main_page(partes)
        _partes_escritas(pagina, e, t, partes)
    pagina.pieces(relative, page)
    columnas = [*election.columns, "NO_REGISTRADOS", "NULOS"]
    pagina.json(
        f"{e.clave}/{t.slug}.json",
        {
            "clave": e.clave,
            "territorio": {"nivel": t.nivel.value, "id": t.id, "nombre": t.nombre},
            "corte": pagina.corte.fecha_hora,
            "resumen": fields,
            "columnas": columnas,
            "votos": [v for _, _, v, _ in votos],
            "campos_seccion": ["SECCION", "PAGINA", *SUMMARY_FIELDS, *columnas],
            "secciones": [
                [str(s), donde.get(s, ""), *seccion.resumen.values(), *seccion.votos]
                for s, seccion in t.secciones.items()
            ],
        },
    )
    pages: dict[str, list[int]] = {}
    for s in t.secciones:
        target = donde.get(s, "")
        file = target.split("#")[0] or main
        pages.setdefault(file, []).append(s)
    return Hecho(
        paths=pagina.written,
        digests=pagina.digests,
        tally=t.tally,
        paginas=[{"pagina": p, "rangos": rangos(ss)} for p, ss in pages.items()],
        observaciones=t.observaciones,
    )


_N, _DE = "\x00n\x00", "\x00de\x00"
"""Stand-ins for a part's number and count: the part pages of a territory differ only in
them (and in their table), so the template is rendered once per territory. No text from
the database holds NUL."""


def _partes_escritas(
    pagina: Pagina, e: SiteElection, t: Territorio, partes: list[tuple[str, list[Grupo]]]
) -> None:
    """The pages of a territory's actas, part by part."""
    relative = f"{e.clave}/{partes[0][0]}"  # every part is in the same folder
    context: dict[str, Any] = {
        "titulo": f"{e.nombre}: {t.titulo}, actas (parte {_N} de {_DE})",
        "actual": e.clave,
        "e": e,
        "territorio": {"titulo": t.titulo, "pagina": f"{t.slug}.html"},
        "encabezado": f"{t.titulo}: actas, parte {_N} de {_DE}",
        "filtro": True,
    }
    head, _, tail = pagina.con_tabla(relative, "actas.html", context, [b""])
    de = str(len(partes)).encode()
    for n, (archivo, gs) in enumerate(partes, start=1):
        numero = str(n).encode()
        tabla = h.tabla_actas(
            e.election,
            _cuerpos(gs),
            ident="actas",
            caption=f"Actas de {t.titulo}, secciones {gs[0][0]} a {gs[-1][0]}",
        )
        pieces = [
            piece.replace(_N.encode(), numero).replace(_DE.encode(), de) for piece in (head, tail)
        ]
        pagina.pieces(f"{e.clave}/{archivo}", [pieces[0], *tabla, pieces[1]])
