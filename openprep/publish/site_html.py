"""HTML fragments of the public site built in Python: acta tables and SVG charts.

The page skeletons are Django templates (``openprep/site/templates/site``); the parts
repeated per acta are built here with plain string operations, because a national corte
writes half a million acta rows and a template engine would take minutes. Every text
that comes from data passes through :func:`html.escape`; numbers are written exactly as
the database writes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

import polars as pl

from openprep.core.model import ActaRecord, Election, TipoContendiente
from openprep.core.rules import Decision, Observacion
from openprep.core.tabla import codigo, textos_observacion

TIPOS_CASILLA = {
    "B": "Básica",
    "C": "Contigua",
    "E": "Extraordinaria",
    "S": "Especial",
    "V": "Prisión preventiva",
    "M": "Mesa de escrutinio",
}
KIND_NAMES = {
    TipoContendiente.PARTIDO.value: "Partido político",
    TipoContendiente.COALICION.value: "Coalición",
    TipoContendiente.CANDIDATURA_COMUN.value: "Candidatura común",
    TipoContendiente.CANDIDATURA_INDEPENDIENTE.value: "Candidatura independiente",
    "": "",
}
SPECIAL_COLUMNS = {"NO_REGISTRADOS": "No registradas", "NULOS": "Votos nulos"}


def nombre_corto(clave: str) -> str:
    """A contender's column as a person reads it: ``C_PAN_PRD`` → ``PAN-PRD``."""
    if clave in SPECIAL_COLUMNS:
        return SPECIAL_COLUMNS[clave]
    if clave.startswith("CAND_IND_"):
        return "CI " + clave.removeprefix("CAND_IND_")
    if clave.startswith("CC_"):
        return "CC " + clave.removeprefix("CC_").replace("_", "-")
    return clave.removeprefix("C_").replace("_", "-")


def _text(value: str) -> str:
    """Escape text for an element's content; most values need nothing and skip the work."""
    return escape(value, quote=False) if "<" in value or "&" in value else value


def _header(election: Election) -> str:
    cells = "".join(
        f'<th scope="col"><abbr title="{escape(c.clave)}">{escape(nombre_corto(c.clave))}'
        "</abbr></th>"
        for c in election.contenders
    )
    return (
        '<thead><tr><th scope="col">Casilla</th><th scope="col">Tipo</th>'
        f'{cells}<th scope="col">No reg.</th><th scope="col">Nulos</th>'
        '<th scope="col">Total asentado</th><th scope="col">Total calculado</th>'
        '<th scope="col">Lista nominal</th><th scope="col">Observaciones</th>'
        '<th scope="col">Contabilizada</th><th scope="col">Acta</th></tr></thead>'
    )


def fila_acta(
    acta: ActaRecord, decision: Decision, *, labels: Mapping[Observacion, str], imagenes: str
) -> str:
    """One acta as a table row; the link to its image, its hash and timestamps inside
    ``<details>``.

    Cells omit their optional end tags (HTML's rules close them): a national distrito
    holds some 600 actas, and this keeps its page well under 500 KB. The image itself is
    put inside the ``<details>`` by the site's script when it is opened: an image file
    has no extension, so a static server may send the bare link as a download, and an
    ``<img>`` in every row would make up a fifth of the page.
    """
    casilla = acta.casilla
    clave = acta.clave_acta if acta.fuera_catalogo else casilla.clave
    votos = "<td>" + "<td>".join(map(str, acta.votos))  # StrEnum marks print their value
    obs = "" if decision.observacion is None else escape(labels[decision.observacion])
    sha = acta.sha
    imagen = f'<a href="{imagenes}{sha}">Imagen</a> <code>{sha}</code>' if sha else "Sin imagen"
    return (
        f"<tr><th scope=row>{_text(clave)}<td>{_text(casilla.tipo)}{votos}"
        f"<td>{acta.no_registrados}<td>{acta.nulos}"
        f"<td>{acta.total_votos_asentado}<td>{decision.total_votos_calculado}"
        f"<td>{acta.lista_nominal}<td>{obs}<td>{'Sí' if decision.contabilizada else 'No'}"
        f"<td><details><summary>Ver</summary>{imagen}<br>"
        f"Acopio {_text(acta.fecha_hora_acopio)}<br>"
        f"Captura {_text(acta.fecha_hora_captura)}<br>"
        f"Verificación {_text(acta.fecha_hora_verificacion)}</details>"
    )


def _escaped(column: str, tabla: pl.DataFrame) -> pl.Expr:
    """A text column through :func:`_text`, each distinct value escaped once."""
    distinct = [t for t in tabla.get_column(column).unique().to_list() if t is not None]
    changed = {t: _text(t) for t in distinct if _text(t) != t}
    if not changed:
        return pl.col(column)
    return pl.col(column).replace(list(changed), list(changed.values()))


def filas_acta(
    tabla: pl.DataFrame,
    *,
    election: Election,
    labels: Mapping[Observacion, str],
    imagenes: str,
) -> pl.Series:
    """:func:`fila_acta` of every acta of a decided frame (:mod:`openprep.core.tabla`),
    built as columns: the same bytes, without a Python string operation per acta."""
    tipo = _escaped("tipo", tabla)
    clave = pl.concat_str(
        pl.col("id_entidad").cast(pl.String).str.zfill(2),
        pl.col("seccion").cast(pl.String).str.zfill(4),
        tipo,
        pl.col("id_casilla").cast(pl.String).str.zfill(2),
        pl.col("ext_contigua").cast(pl.String).str.zfill(2),
    )
    observaciones: dict[int | None, str] = {codigo(o): escape(text) for o, text in labels.items()}
    votos = [pl.col(f"c:{name}") for name in election.columns] or [pl.lit("")]
    head = pl.concat_str(
        pl.lit("<tr><th scope=row>"),
        pl.concat_str(
            clave,
            tipo,
            *votos,
            pl.col("c:NO_REGISTRADOS"),
            pl.col("c:NULOS"),
            pl.col("c:TOTAL_VOTOS_ASENTADO"),
            pl.col("total").cast(pl.String),
            pl.col("lista_nominal").cast(pl.String),
            textos_observacion(observaciones),
            pl.when(pl.col("contabilizada")).then(pl.lit("Sí")).otherwise(pl.lit("No")),
            separator="<td>",
        ),
        pl.lit("<td><details><summary>Ver</summary>"),
    )
    sha = pl.col("sha")
    imagen = (
        pl.when(sha != "")
        .then(
            pl.concat_str(
                pl.lit(f'<a href="{imagenes}'),
                sha,
                pl.lit('">Imagen</a> <code>'),
                sha,
                pl.lit("</code>"),
            )
        )
        .otherwise(pl.lit("Sin imagen"))
    )
    tail = pl.concat_str(
        pl.lit("<br>Acopio "), _escaped("acopio", tabla),
        pl.lit("<br>Captura "), _escaped("captura", tabla),
        pl.lit("<br>Verificación "), _escaped("verificacion", tabla),
        pl.lit("</details>"),
    )  # fmt: skip
    return tabla.select(pl.concat_str(head, imagen, tail).alias("fila")).get_column("fila")


def grupos_seccion(filas: pl.DataFrame, *, width: int) -> pl.DataFrame:
    """The rows of each sección as one ``<tbody>`` headed by its number.

    ``filas``: columns ``t`` (territory), ``e`` (casilla especial), ``s`` (sección) and
    ``f`` (:func:`filas_acta`), in display order. Gives ``t``, ``e``, ``s`` and ``html``,
    one row per (t, e, s), in their first order. The bodies of casillas ordinarias carry
    the sección's anchor (``id="s…"``); the especiales' are listed apart, without it.
    """
    seccion = pl.col("s").cast(pl.String)
    return (
        filas.group_by("t", "e", "s", maintain_order=True)
        .agg(pl.col("f").str.join(""))
        .select(
            "t",
            "e",
            "s",
            html=pl.concat_str(
                pl.lit("<tbody"),
                pl.when(pl.col("e"))
                .then(pl.lit(""))
                .otherwise(pl.concat_str(pl.lit(' id="s'), seccion, pl.lit('"'))),
                pl.lit(' data-s="'),
                seccion,
                pl.lit(f'"><tr class="sec"><th scope="rowgroup" colspan="{width}">Sección '),
                seccion,
                pl.col("f"),
                pl.lit("</tbody>"),
            ),
        )
    )


def tabla_actas(
    election: Election, grupos: Sequence[bytes], *, ident: str, caption: str
) -> list[bytes]:
    """A table of actas from :func:`grupos_seccion` bodies (UTF-8), in a scrollable
    region: its pieces, to be written one after the other."""
    head = (
        f'<div class="tabla" role="region" tabindex="0" aria-labelledby="{ident}-t">'
        f'<table class="actas" id="{ident}"><caption id="{ident}-t">{escape(caption)}</caption>'
        f"{_header(election)}"
    )
    return [head.encode(), *grupos, b"</table></div>"]


def ancho_tabla(election: Election) -> int:
    return len(election.contenders) + 10


def grafica_barras(votos: Sequence[tuple[str, str, str, str]], *, titulo: str) -> str:
    """Horizontal bars of votes per contender; its text alternative names every figure."""
    bar, gap, label_w, width = 22, 8, 190, 640
    top = max((int(v[2]) for v in votos), default=0) or 1
    height = len(votos) * (bar + gap) + gap
    resumen = "; ".join(f"{nombre_corto(c)}: {v} votos ({p} %)" for c, _, v, p in votos)
    parts = [
        f'<svg class="barras" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(titulo)}. {escape(resumen)}">'
        f"<title>{escape(titulo)}</title>"
    ]
    for i, (clave, _, valor, porcentaje) in enumerate(votos):
        y = gap + i * (bar + gap)
        w = round((width - label_w - 130) * int(valor) / top, 1)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">'
            f"{escape(nombre_corto(clave))}</text>"
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar}"/>'
            f'<text x="{label_w + w + 6}" y="{y + 16}">{valor} ({porcentaje} %)</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _muestra(n: int, limite: int) -> list[int]:
    """At most ``limite`` indices spread over ``range(n)``, the last always included."""
    if n <= limite:
        return list(range(n))
    step = (n - 1) / (limite - 1)
    return sorted({round(i * step) for i in range(limite)})


def grafica_avance(puntos: Sequence[tuple[str, int, int]], *, esperadas: int) -> str:
    """Actas capturadas and contabilizadas over the cortes, as two lines under ACTAS_ESPERADAS."""
    width, height, left, bottom, top_pad = 640, 240, 70, 40, 16
    indices = _muestra(len(puntos), 240)
    maximo = max([esperadas, *(p[1] for p in puntos)]) or 1
    span = max(len(puntos) - 1, 1)

    def xy(i: int, value: int) -> str:
        x = left + (width - left - 16) * i / span
        y = top_pad + (height - bottom - top_pad) * (1 - value / maximo)
        return f"{x:.1f},{y:.1f}"

    capturadas = " ".join(xy(i, puntos[i][1]) for i in indices)
    contabilizadas = " ".join(xy(i, puntos[i][2]) for i in indices)
    first, last = puntos[0], puntos[-1]
    ultimo_c = xy(len(puntos) - 1, last[1]).split(",")
    ultimo_k = xy(len(puntos) - 1, last[2]).split(",")
    base = height - bottom
    label = (
        f"Avance de actas por corte, de {first[0]} a {last[0]}: al último corte, "
        f"{last[1]} actas capturadas y {last[2]} contabilizadas de {esperadas} esperadas."
    )
    return (
        f'<svg class="avance" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}"><title>Avance de actas por corte</title>'
        f'<line class="eje" x1="{left}" y1="{base}" x2="{width - 16}" y2="{base}"/>'
        f'<line class="eje" x1="{left}" y1="{top_pad}" x2="{left}" y2="{base}"/>'
        f'<text x="{left - 6}" y="{top_pad + 5}" text-anchor="end">{maximo}</text>'
        f'<text x="{left - 6}" y="{base + 5}" text-anchor="end">0</text>'
        f'<text x="{left}" y="{height - 12}">{escape(first[0])}</text>'
        f'<text x="{width - 16}" y="{height - 12}" text-anchor="end">{escape(last[0])}</text>'
        f'<polyline class="capturadas" points="{capturadas}"/>'
        f'<polyline class="contabilizadas" points="{contabilizadas}"/>'
        # The latest corte as a dot: with one corte the lines have no length at all.
        f'<circle class="capturadas" r="4" cx="{ultimo_c[0]}" cy="{ultimo_c[1]}"/>'
        f'<circle class="contabilizadas" r="4" cx="{ultimo_k[0]}" cy="{ultimo_k[1]}"/>'
        "</svg>"
    )


def filas_secciones(
    secciones: Sequence[tuple[int, Mapping[str, str], str]], *, con_esperadas: bool
) -> str:
    """The secciones table's rows: (sección, its summary fields, link to its actas)."""
    parts = []
    for seccion, f, enlace in secciones:
        name = f'<a href="{enlace}">{seccion}</a>' if enlace else str(seccion)
        esperadas = f"<td>{f['ACTAS_ESPERADAS']}" if con_esperadas else ""
        parts.append(
            f'<tr data-s="{seccion}"><th scope=row>{name}{esperadas}'
            f"<td>{f['ACTAS_CAPTURADAS']}<td>{f['ACTAS_CONTABILIZADAS']}"
            f"<td>{f['LISTA_NOMINAL_ACTAS_CONTABILIZADAS']}<td>{f['TOTAL_VOTOS_C_CS']}"
            f"<td>{f['PORCENTAJE_PARTICIPACION_CIUDADANA']}</tr>"
        )
    return "".join(parts)
