"""The site's acta rows and territories, built as columns, are exactly the row path's.

A national corte writes half a million acta rows, so the site builds them from the decided
frame (:func:`site_html.filas_acta` over :mod:`openprep.core.tabla`'s columns) and tallies
territories with polars (:func:`site_data.agrupar`, which also joins each sección's rows
into its ``<tbody>``). The references stay the row functions: :func:`site_html.fila_acta`
for one acta's HTML, :func:`grupo_seccion` below for a sección's body, and
:func:`openprep.core.tally.tally` for the figures of a sección. These acta shapes (marks,
observations, no image, texts that need escaping, sin acta, a casilla especial, an empty
ballot) are where the columns could drift from the definition.

Actas fuera de catálogo never enter the columns: the site writes them with ``fila_acta``
itself and lists them apart from every territory. A record off the ballot's width (a row
path oddity the previous template had to handle) cannot be written as columns at all: a
frame has one column per ballot column.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from itertools import groupby

import polars as pl
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from openprep.core import tabla
from openprep.core.model import ActaRecord, Casilla, Election, Marca, MotivoSinActa
from openprep.core.rules import (
    INE_LABELS,
    REFERENCE_LABELS,
    Decision,
    Observacion,
    Participacion,
    RuleSettings,
    contabilizar,
)
from openprep.core.tally import Nivel, TerritoryTally, tally
from openprep.publish.site_data import (
    Agrupacion,
    Seccion,
    agrupar,
    esperadas_tabla,
    figuras,
    merged,
)
from openprep.publish.site_html import ancho_tabla, fila_acta, filas_acta
from tests.core.builders import make_acta, make_casilla, make_election
from tests.core.test_tabla import cortes, cruda

ELECTION = make_election()
SHA = "0f" * 32
STAMPS = {
    "fecha_hora_acopio": "2027-06-06 20:01:02",
    "fecha_hora_captura": "2027-06-06 20:11:02",
    "fecha_hora_verificacion": "2027-06-06 20:21:02",
}
ACTAS = [
    make_acta(votes={"PAN": 120, "PRI": 7}, lista_nominal=500, sha=SHA, **STAMPS),
    make_acta(votes={"PAN": 120}, lista_nominal=50),
    make_acta(votes={"PAN": Marca.ILEGIBLE}, nulos=Marca.SIN_DATO, lista_nominal=90, sha=SHA),
    make_acta(votes={"CAND_IND_1": Marca.NO_APLICA}, no_registrados=Marca.ILEGIBLE),
    make_acta(fill=Marca.SIN_DATO, no_registrados=Marca.ILEGIBLE, nulos=Marca.SIN_DATO),
    make_acta(sin_acta=MotivoSinActa.CASILLA_NO_INSTALADA),
    make_acta(casilla=make_casilla(tipo="S", seccion=1234, id_casilla=12, ext_contigua=3)),
    make_acta(casilla=make_casilla(tipo="<b>&"), sha=SHA, **STAMPS),
    make_acta(sha=SHA, fecha_hora_captura="2027-06-06 <script>", fecha_hora_acopio="a&b"),
]
FUERA = make_acta(fuera_catalogo=True, clave_acta_capturada="23<0085B0100", sha=SHA)
LABELS = pytest.mark.parametrize(
    "labels", [REFERENCE_LABELS, INE_LABELS], ids=["referencia", "ine"]
)
Rows = Sequence[tuple[ActaRecord, Decision]]
Labels = Mapping[Observacion, str]
IMAGENES = pytest.mark.parametrize("imagenes", ["../../../imagenes/", "img%20/"])


def decididas(
    actas: Sequence[ActaRecord], *, election: Election = ELECTION, settings: RuleSettings
) -> list[tuple[ActaRecord, Decision]]:
    return [(a, contabilizar(a, election=election, settings=settings)) for a in actas]


def filas(rows: Rows, *, election: Election = ELECTION, labels: Labels, imagenes: str) -> list[str]:
    """:func:`filas_acta` of the rows' frame, as a list."""
    frame = tabla.tabla_de_filas(rows, election=election)
    return filas_acta(frame, election=election, labels=labels, imagenes=imagenes).to_list()


def referencia(rows: Rows, *, labels: Labels, imagenes: str) -> list[str]:
    return [fila_acta(a, d, labels=labels, imagenes=imagenes) for a, d in rows]


# -- one acta's row --------------------------------------------------------------------


@LABELS
@IMAGENES
def test_each_row_is_fila_actas_bytes(labels, imagenes):
    rows = decididas(ACTAS, settings=RuleSettings(labels=labels))
    assert filas(rows, labels=labels, imagenes=imagenes) == referencia(
        rows, labels=labels, imagenes=imagenes
    )


@LABELS
@IMAGENES
def test_each_row_from_the_corte_frame_is_fila_actas_bytes(labels, imagenes):
    """The frame the corte builder decides from the stored texts, not the rows' frame."""
    settings = RuleSettings(labels=labels)
    rows = decididas(ACTAS, settings=settings)
    stored = [{"PAN": "0120"} if a.votos[0] == 120 else {} for a in ACTAS]
    frame = tabla.decidir(
        cruda(ACTAS, election=ELECTION, stored=stored), election=ELECTION, settings=settings
    )
    found = filas_acta(frame, election=ELECTION, labels=labels, imagenes=imagenes).to_list()
    assert found == referencia(rows, labels=labels, imagenes=imagenes)


@IMAGENES
def test_an_empty_ballot(imagenes):
    """An election without contenders: only NO_REGISTRADOS and NULOS."""
    election = make_election(())
    actas = [
        make_acta(election=election, no_registrados=3, nulos=2, lista_nominal=100, sha=SHA),
        make_acta(election=election, no_registrados=Marca.ILEGIBLE, nulos=Marca.SIN_DATO),
        make_acta(election=election, nulos=900, lista_nominal=10, **STAMPS),
    ]
    rows = decididas(actas, election=election, settings=RuleSettings())
    found = filas(rows, election=election, labels=REFERENCE_LABELS, imagenes=imagenes)
    assert found == referencia(rows, labels=REFERENCE_LABELS, imagenes=imagenes)


def test_texts_from_data_stay_escaped():
    rows = decididas([ACTAS[7], ACTAS[8]], settings=RuleSettings())
    tipo, stamps = filas(rows, labels=REFERENCE_LABELS, imagenes="i/")
    assert "<b>" not in tipo
    assert "&lt;b&gt;&amp;" in tipo
    assert "<script>" not in stamps
    assert "&lt;script&gt;" in stamps
    assert "a&amp;b" in stamps


def test_no_actas():
    rows: list[tuple[ActaRecord, Decision]] = []
    assert filas(rows, labels=REFERENCE_LABELS, imagenes="i/") == []


# -- territories -----------------------------------------------------------------------


def grupo_seccion(seccion: int, filas: Sequence[str], *, width: int, ancla: bool) -> str:
    """The rows of one sección as a ``<tbody>`` headed by its number: the row path's
    definition (``site_html.grupo_seccion`` before the bodies were built as columns). Only
    the casillas ordinarias' bodies carry the sección's anchor."""
    ident = f' id="s{seccion}"' if ancla else ""
    return (
        f'<tbody{ident} data-s="{seccion}"><tr class="sec"><th scope="rowgroup" '
        f'colspan="{width}">Sección {seccion}{"".join(filas)}</tbody>'
    )


def casilla(
    seccion: int, tipo: str = "B", *, distrito: int, municipio: int | None, id_casilla: int = 1
) -> Casilla:
    return make_casilla(
        seccion=seccion,
        tipo=tipo,
        id_casilla=id_casilla,
        id_distrito=distrito,
        distrito=f"DISTRITO {distrito}",
        id_municipio=municipio,
        municipio="" if municipio is None else f"MUNICIPIO {municipio}",
    )


def catalogo(*, municipios: bool = True) -> tuple[list[Casilla], list[ActaRecord]]:
    """Expected casillas of three distritos and four municipios, and the actas of most of
    them, in catalog order (not sorted by sección): marks, sin acta, excesses, especiales;
    distrito 3 has no acta at all, sección 14 only an especial."""

    def m(n: int) -> int | None:
        return n if municipios else None

    esperadas = [
        casilla(12, distrito=1, municipio=m(1)),
        casilla(12, "C", distrito=1, municipio=m(1)),
        casilla(11, distrito=1, municipio=m(1)),
        casilla(11, "S", distrito=1, municipio=m(2)),
        casilla(13, distrito=1, municipio=m(2)),
        casilla(13, distrito=1, municipio=m(2), id_casilla=2),
        casilla(14, "S", distrito=1, municipio=m(2)),
        casilla(21, distrito=2, municipio=m(2)),
        casilla(20, distrito=2, municipio=m(3)),
        casilla(20, "E", distrito=2, municipio=m(3)),
        casilla(22, "S", distrito=2, municipio=m(3)),
        casilla(23, distrito=2, municipio=m(3)),
        casilla(31, distrito=3, municipio=m(4)),
        casilla(32, "S", distrito=3, municipio=m(4)),
    ]
    c = esperadas
    actas = [
        make_acta(casilla=c[0], votes={"PAN": 40, "PRI": 12}, lista_nominal=300, sha=SHA),
        make_acta(casilla=c[1], votes={"MORENA": Marca.ILEGIBLE}, nulos=4, lista_nominal=200),
        make_acta(casilla=c[2], votes={"PAN": 400}, lista_nominal=100),
        make_acta(casilla=c[3], votes={"PRI": 50, "CAND_IND_1": 7}, nulos=3, **STAMPS),
        make_acta(casilla=c[4], sin_acta=MotivoSinActa.PAQUETE_NO_ENTREGADO),
        make_acta(
            casilla=c[5],
            fill=Marca.SIN_DATO,
            no_registrados=Marca.ILEGIBLE,
            nulos=Marca.ILEGIBLE,
            lista_nominal=90,
        ),
        make_acta(casilla=c[6], votes={"MORENA": 800}),
        make_acta(
            casilla=c[7],
            votes={"CAND_IND_1": Marca.NO_APLICA, "PAN": 9},
            no_registrados=1,
            lista_nominal=50,
            sha=SHA,
        ),
        make_acta(casilla=c[8], votes={"PRI": 5, "MORENA": 6}, lista_nominal=20),
        make_acta(casilla=c[9], votes={"C_PAN_PRI": 3}, lista_nominal=20, origen="<&>"),
        make_acta(casilla=c[10], votes={"PAN": Marca.ILEGIBLE, "PRI": 20}, nulos=2),
    ]
    return esperadas, actas


def assert_territories_are_the_cores(
    grupos: Agrupacion,
    rows: Rows,
    esperadas: Sequence[Casilla],
    *,
    nivel: Nivel,
    labels: Labels,
    imagenes: str,
    election: Election = ELECTION,
    participacion: Participacion = Participacion.OPERACION,
) -> None:
    """Each territory's secciones, total, observations and rows as the row path gives them."""
    width = len(election.contenders)
    ancho = ancho_tabla(election)

    def ident(c: Casilla) -> int:
        return int(c.id_municipio or 0) if nivel is Nivel.MUNICIPIO else c.id_distrito

    assert grupos.nivel is nivel
    ids = sorted({ident(c) for c in esperadas} | {ident(a.casilla) for a, _ in rows})
    assert [t.id for t in grupos.territorios] == ids
    for territorio in grupos.territorios:
        mine = [(a, d) for a, d in rows if ident(a.casilla) == territorio.id]
        expected_casillas = [c for c in esperadas if ident(c) == territorio.id]
        first = (expected_casillas or [mine[0][0].casilla])[0]
        assert territorio.nivel is nivel
        assert territorio.nombre == (
            first.municipio if nivel is Nivel.MUNICIPIO else first.distrito
        )
        by_key = tally(mine, election=election, nivel=Nivel.SECCION, esperadas=expected_casillas)
        secciones = {int(str(key[1])): t for key, t in by_key.items()}
        assert territorio.secciones == {
            s: Seccion(
                resumen=figuras(t, participacion=participacion),
                votos=[str(v) for v in (*t.votos, t.no_registrados, t.nulos)],
            )
            for s, t in secciones.items()
        }
        assert list(territorio.secciones) == sorted(secciones)
        whole = tally(mine, election=election, nivel=nivel, esperadas=expected_casillas)
        assert list(whole.values()) == [territorio.tally]
        assert territorio.tally == merged(secciones.values(), width=width)
        assert territorio.observaciones == dict(Counter(d.observacion for _, d in mine))
        by_seccion = sorted(mine, key=lambda r: r[0].casilla.seccion)  # stable: catalog order
        for especial, found in ((False, territorio.ordinarias), (True, territorio.especiales)):
            part = [(a, d) for a, d in by_seccion if a.casilla.especial is especial]
            expected = []
            for seccion, members in groupby(part, key=lambda r: r[0].casilla.seccion):
                html = [fila_acta(a, d, labels=labels, imagenes=imagenes) for a, d in members]
                cuerpo = grupo_seccion(seccion, html, width=ancho, ancla=not especial)
                expected.append((seccion, cuerpo.encode(), len(cuerpo)))
            assert found == expected
        assert territorio.actas == len(mine)
    especiales = [(a, d) for a, d in rows if a.casilla.especial]
    parts = tally(especiales, election=election, nivel=Nivel.ENTIDAD).values()
    assert grupos.especiales == merged(parts, width=width)
    assert grupos.especiales.summary.actas_registradas == len(especiales)


@LABELS
@pytest.mark.parametrize("ambito", ["distrito", "municipio"])
@pytest.mark.parametrize("source", ["filas", "decidir"])
@pytest.mark.parametrize("participacion", list(Participacion))
def test_agrupar_tallies_each_seccion_as_the_core(labels, ambito, source, participacion):
    settings = RuleSettings(labels=labels, participacion=participacion)
    esperadas, actas = catalogo()
    rows = decididas(actas, settings=settings)
    if source == "filas":
        frame = tabla.tabla_de_filas(rows, election=ELECTION)
    else:
        frame = tabla.decidir(cruda(actas, election=ELECTION), election=ELECTION, settings=settings)
    fuera = decididas([FUERA], settings=settings)
    grupos = agrupar(
        election=ELECTION,
        ambito=ambito,
        tabla=frame,
        fuera=fuera,
        esperadas=esperadas_tabla(esperadas),
        labels=labels,
        imagenes="i/",
        participacion=settings.participacion,
    )
    nivel = Nivel.MUNICIPIO if ambito == "municipio" else Nivel.DISTRITO
    assert_territories_are_the_cores(
        grupos,
        rows,
        esperadas,
        nivel=nivel,
        labels=labels,
        imagenes="i/",
        participacion=settings.participacion,
    )
    assert grupos.fuera_catalogo == fuera
    assert grupos.actas == len(actas) + 1


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    corte=cortes(),
    sin_actas=st.lists(
        st.builds(
            make_casilla,
            tipo=st.sampled_from("BS"),
            seccion=st.integers(1, 45),
            id_distrito=st.integers(1, 4),
            id_municipio=st.none() | st.integers(1, 4),
        ),
        max_size=5,
    ),
    ambito=st.sampled_from(["distrito", "municipio"]),
)
def test_agrupar_random_actas(corte, sin_actas, ambito):
    """Random catalog actas (tests.core.test_tabla) decided from their stored texts, plus
    expected casillas without an acta."""
    election, settings, rows, frame = corte
    decided = tabla.decidir(frame, election=election, settings=settings)
    esperadas = [a.casilla for a, _ in rows] + sin_actas
    grupos = agrupar(
        election=election,
        ambito=ambito,
        tabla=decided,
        fuera=[],
        esperadas=esperadas_tabla(esperadas),
        labels=settings.labels,
        imagenes="i/",
        participacion=settings.participacion,
    )
    municipio = ambito == "municipio" and all(a.casilla.id_municipio is not None for a, _ in rows)
    assert_territories_are_the_cores(
        grupos,
        rows,
        esperadas,
        nivel=Nivel.MUNICIPIO if municipio else Nivel.DISTRITO,
        labels=settings.labels,
        imagenes="i/",
        election=election,
        participacion=settings.participacion,
    )


def agrupados(rows: Rows, esperadas: Sequence[Casilla], *, ambito: str) -> Agrupacion:
    """``agrupar`` of rows of ELECTION, with the reference labels, during the operation."""
    return agrupar(
        election=ELECTION,
        ambito=ambito,
        tabla=tabla.tabla_de_filas(rows, election=ELECTION),
        fuera=[],
        esperadas=esperadas_tabla(esperadas),
        labels=REFERENCE_LABELS,
        imagenes="i/",
        participacion=Participacion.OPERACION,
    )


def test_agrupar_falls_back_to_distritos_without_municipios():
    """Municipio is the level only when every acta names its municipio."""
    esperadas, actas = catalogo(municipios=False)
    rows = decididas(actas, settings=RuleSettings())
    grupos = agrupados(rows, esperadas, ambito="municipio")
    assert_territories_are_the_cores(
        grupos, rows, esperadas, nivel=Nivel.DISTRITO, labels=REFERENCE_LABELS, imagenes="i/"
    )


def test_agrupar_without_actas():
    """Expected actas only: every territory and sección is there, with zero figures."""
    esperadas, _ = catalogo()
    grupos = agrupados([], esperadas, ambito="distrito")
    assert_territories_are_the_cores(
        grupos, [], esperadas, nivel=Nivel.DISTRITO, labels=REFERENCE_LABELS, imagenes="i/"
    )
    assert grupos.especiales == TerritoryTally(votos=[0] * len(ELECTION.contenders))


def test_the_fuera_de_catalogo_row_escapes_its_captured_key():
    """Written by fila_acta itself (never in the columns): the captured key is escaped."""
    (row,) = decididas([FUERA], settings=RuleSettings())
    html = fila_acta(*row, labels=REFERENCE_LABELS, imagenes="i/")
    assert "23&lt;0085B0100" in html
    assert "23<0085B0100" not in html


def test_esperadas_tabla_keeps_a_frame():
    frame = esperadas_tabla(catalogo()[0])
    assert esperadas_tabla(frame) is frame
    assert frame.columns == list(tabla.CASILLA)
    assert frame.schema == pl.Schema(tabla.CASILLA_SCHEMA)
