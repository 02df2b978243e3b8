"""Server-rendered SVG charts: no script, no external library, readable by a screen reader.

Each chart is an image (``role="img"``) named by its ``<title>`` and described by its
``<desc>``; the page always puts the same numbers in a table next to it.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

ANCHO = 640
ALTO = 220
MARGEN_IZQ = 40
MARGEN_INF = 40
MARGEN_SUP = 16
BARRA = "#1a5fb4"  # 7.2:1 against white
TEXTO = "#111111"


def barras(
    datos: Sequence[tuple[str, int]], *, id_svg: str, titulo: str, descripcion: str
) -> SafeString:
    """A vertical bar chart of ``(label, value)`` pairs, as inline SVG."""
    maximo = max((v for _, v in datos), default=0) or 1
    alto_util = ALTO - MARGEN_INF - MARGEN_SUP
    paso = (ANCHO - MARGEN_IZQ) / max(len(datos), 1)
    ancho_barra = max(paso * 0.7, 1)
    # Label every bar when they fit, otherwise one in every few.
    cada = max(1, round(len(datos) / 12))
    barras_svg = []
    for i, (etiqueta, valor) in enumerate(datos):
        alto = alto_util * valor / maximo
        x = MARGEN_IZQ + i * paso + (paso - ancho_barra) / 2
        y = MARGEN_SUP + alto_util - alto
        barras_svg.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>',
                f"{x:.1f}",
                f"{y:.1f}",
                f"{ancho_barra:.1f}",
                f"{alto:.1f}",
                BARRA,
                etiqueta,
                valor,
            )
        )
        if i % cada == 0:
            barras_svg.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="{}">{}</text>',
                    f"{x + ancho_barra / 2:.1f}",
                    ALTO - MARGEN_INF + 14,
                    TEXTO,
                    etiqueta,
                )
            )
    eje = format_html(
        '<line x1="{x}" y1="{y0}" x2="{x}" y2="{y1}" stroke="{c}"/>'
        '<line x1="{x}" y1="{y1}" x2="{x2}" y2="{y1}" stroke="{c}"/>'
        '<text x="{tx}" y="{ty}" text-anchor="end" font-size="11" fill="{c}">{maximo}</text>'
        '<text x="{tx}" y="{y1}" text-anchor="end" font-size="11" fill="{c}">0</text>',
        x=MARGEN_IZQ,
        y0=MARGEN_SUP,
        y1=MARGEN_SUP + alto_util,
        x2=ANCHO,
        tx=MARGEN_IZQ - 4,
        ty=MARGEN_SUP + 4,
        c=TEXTO,
        maximo=maximo if datos else 0,
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" '
        'aria-labelledby="{id}-titulo {id}-desc" id="{id}" class="grafica">'
        '<title id="{id}-titulo">{}</title><desc id="{id}-desc">{}</desc>{}{}</svg>',
        ANCHO,
        ALTO,
        titulo,
        descripcion,
        eje,
        mark_safe("".join(barras_svg)),
        id=id_svg,
    )
