"""An election's page and data: summary, votes, progress, territories, fuera de catálogo."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.safestring import mark_safe

from openprep.core.rules import RuleSettings
from openprep.core.tally import SUMMARY_FIELDS, Nivel
from openprep.publish import site_html as h
from openprep.publish.site_data import (
    Agrupacion,
    etiquetas,
    figuras,
    merged,
    votos_con_porcentaje,
)
from openprep.publish.site_pages import IMAGENES, Hecho

if TYPE_CHECKING:
    from openprep.publish.site import Pagina, SiteElection


@dataclass(frozen=True)
class Plan:
    """One election of the corte, its rule settings and its actas grouped by territory."""

    e: SiteElection
    settings: RuleSettings
    grupos: Agrupacion


def avance(e: SiteElection, history: Sequence[tuple[str, str, int, int]], fecha: str) -> list:
    """(corte, capturadas, contabilizadas) of the election's previous cortes, then this one."""
    puntos = [(f, c, k) for clave, f, c, k in history if clave == e.clave and f != fecha]
    puntos.append(
        (fecha, int(e.summary["ACTAS_CAPTURADAS"]), int(e.summary["ACTAS_CONTABILIZADAS"]))
    )
    return puntos


def votos_vista(votos: Sequence[tuple[str, str, str, str]]) -> list[dict[str, str]]:
    return [
        {"clave": c, "nombre": h.nombre_corto(c), "tipo": h.KIND_NAMES[k]}
        | {"votos": v, "porcentaje": p}
        for c, k, v, p in votos
    ]


def _fuera(pagina: Pagina, plan: Plan) -> str | None:
    e, grupos = plan.e, plan.grupos
    if not grupos.fuera_catalogo:
        return None
    archivo = "fuera-de-catalogo.html"
    filas = [
        h.fila_acta(a, d, labels=plan.settings.labels, imagenes=IMAGENES)
        for a, d in grupos.fuera_catalogo
    ]
    tabla = h.tabla_actas(
        e.election,
        [f"<tbody>{''.join(filas)}</tbody>".encode()],
        ident="actas",
        caption=f"Actas fuera de catálogo, {e.nombre}",
    )
    relative = f"{e.clave}/{archivo}"
    context = {
        "titulo": f"{e.nombre}: actas fuera de catálogo",
        "actual": e.clave,
        "e": e,
        "encabezado": "Actas fuera de catálogo",
        "nota": "Actas registradas cuya identidad no corresponde a ninguna acta esperada. "
        "No se suman en ningún total.",
    }
    pagina.pieces(relative, pagina.con_tabla(relative, "actas.html", context, tabla))
    return archivo


def escribir_eleccion(pagina: Pagina, plan: Plan, hechos: Sequence[Hecho]) -> dict[str, Any]:
    """Write the election's page and JSON; return its observation statistics."""
    e, grupos, settings = plan.e, plan.grupos, plan.settings
    corte = pagina.corte
    participacion = settings.participacion
    plural = "Distritos" if grupos.nivel is Nivel.DISTRITO else "Municipios"
    total = merged((x.tally for x in hechos), width=len(e.election.contenders))
    votos = votos_con_porcentaje(total, election=e.election)
    puntos = avance(e, corte.history, corte.fecha_hora)
    territorios = [
        {
            "titulo": t.titulo,
            "pagina": f"{t.slug}.html",
            "f": figuras(x.tally, participacion=participacion),
        }
        for t, x in zip(grupos.territorios, hechos, strict=True)
    ]
    fuera = _fuera(pagina, plan)
    especiales = figuras(grupos.especiales, participacion=participacion)
    pagina.html(
        f"{e.clave}/index.html",
        "eleccion.html",
        {
            "titulo": e.nombre,
            "actual": e.clave,
            "e": e,
            "resumen": e.summary,
            "campos": [(f, e.summary[f]) for f in SUMMARY_FIELDS],
            "votos": votos_vista(votos),
            "total_votos": str(total.total_votos),
            "barras": mark_safe(h.grafica_barras(votos, titulo=f"Votos, {e.nombre}")),
            "avance": mark_safe(
                h.grafica_avance(puntos, esperadas=int(e.summary["ACTAS_ESPERADAS"]))
            ),
            "puntos": puntos[-1],
            "especiales": especiales,
            "plural": plural,
            "territorios": territorios,
            "con_esperadas": len(e.esperadas) > 0,
            "fuera": fuera,
            "fuera_n": len(grupos.fuera_catalogo),
        },
    )
    pagina.json(
        f"{e.clave}/datos.json",
        {
            "clave": e.clave,
            "nombre": e.nombre,
            "nivel": grupos.nivel.value,
            "corte": corte.fecha_hora,
            "resumen": dict(e.summary),
            "votos": [
                {"columna": c, "tipo": k, "votos": v, "porcentaje": p} for c, k, v, p in votos
            ],
            "especiales": especiales,
            "avance": [list(p) for p in puntos],
            "territorios": [
                {"titulo": t["titulo"], "pagina": t["pagina"], "resumen": t["f"]}
                for t in territorios
            ],
        },
    )
    pagina.json(
        f"{e.clave}/secciones.json",
        {"paginas": [p for x in hechos for p in x.paginas]},
    )
    return _estadistica(plan, hechos)


def _estadistica(plan: Plan, hechos: Sequence[Hecho]) -> dict[str, Any]:
    """Actas per observation kind, for the election and each territory."""
    e, settings = plan.e, plan.settings
    labels = etiquetas(settings.labels)
    kinds = [None, *settings.labels]
    total = {k: sum(x.observaciones.get(k, 0) for x in hechos) for k in kinds}
    return {
        "clave": e.clave,
        "nombre": e.nombre,
        "tipos": [labels[k] for k in kinds],
        "filas": [(labels[k], str(total[k])) for k in kinds],
        "fuera": str(len(plan.grupos.fuera_catalogo)),
        "capturadas": e.summary["ACTAS_CAPTURADAS"],
        "territorios": [
            {
                "titulo": t.titulo,
                "pagina": f"{e.clave}/{t.slug}.html",
                "n": [str(x.observaciones.get(k, 0)) for k in kinds],
            }
            for t, x in zip(plan.grupos.territorios, hechos, strict=True)
        ],
    }
