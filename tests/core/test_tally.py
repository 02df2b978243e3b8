"""Aggregation and the corte summary (DOMAIN.md §5) at every territorial level."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openprep.core.model import Marca, MotivoSinActa
from openprep.core.rules import Participacion, Representantes, RuleSettings
from openprep.core.tally import SUMMARY_FIELDS, Nivel, Summary, tally, truncated_percentage
from tests.core.builders import all_blank, decided, make_acta, make_casilla, make_election

ILEGIBLE = Marca.ILEGIBLE

# -- truncated percentages -------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (9_508_429, 10_000_000, "95.0842"),  # 95.08429: truncated, not rounded up
        (9_999_999, 10_000_000, "99.9999"),  # 99.99999 never becomes 100
        (2031, 2136, "95.0842"),  # the reference file's 95.08426...
        (2, 3, "66.6666"),
        (1, 3, "33.3333"),
        (7, 7, "100.0000"),
        (2136, 2136, "100.0000"),
        (0, 5, "0.0000"),
        (1, 1_000_000, "0.0001"),
        (1, 1_000_001, "0.0000"),
        (3, 2, "150.0000"),
        (0, 0, "0.0000"),  # nothing expected yet: zero, not a division error
        (5, 0, "0.0000"),
    ],
)
def test_percentages_have_four_decimals_truncated(numerator, denominator, expected):
    assert truncated_percentage(numerator, denominator) == expected


# -- a small hand-made corte -----------------------------------------------------------
#
# Two distritos, three municipios, five secciones, eight expected actas.
#   distrito 1, municipio 10, sección 1: B (counts), C (counts)
#   distrito 1, municipio 11, sección 2: S especial (counts), B (counts, one ILEGIBLE)
#   distrito 2, municipio 12, sección 3: B (todos ilegibles), C (excede lista nominal)
#   distrito 2, municipio 12, sección 4: E (sin acta), B (expected, never arrived)
#   distrito 2, municipio 12, sección 9: an acta fuera de catálogo

ELECTION = make_election()  # PAN, PRI, MORENA, C_PAN_PRI, CAND_IND_1


def casilla(seccion, tipo, distrito, municipio):
    return make_casilla(seccion=seccion, tipo=tipo, id_distrito=distrito, id_municipio=municipio)


B1 = casilla(1, "B", 1, 10)
C1 = casilla(1, "C", 1, 10)
S2 = casilla(2, "S", 1, 11)
B2 = casilla(2, "B", 1, 11)
B3 = casilla(3, "B", 2, 12)
C3 = casilla(3, "C", 2, 12)
E4 = casilla(4, "E", 2, 12)
B4 = casilla(4, "B", 2, 12)
B9 = casilla(9, "B", 2, 12)
ESPERADAS = [B1, C1, S2, B2, B3, C3, E4, B4]
ACTAS = [
    make_acta(casilla=B1, votes={"PAN": 50, "PRI": 30}, nulos=5, lista_nominal=200),
    make_acta(
        casilla=C1,
        votes={"MORENA": 40, "C_PAN_PRI": 2},
        no_registrados=1,
        lista_nominal=150,
    ),
    make_acta(casilla=S2, votes={"PAN": 20, "PRI": 10}),
    make_acta(casilla=B2, votes={"PAN": ILEGIBLE, "PRI": 25}, nulos=3, lista_nominal=100),
    all_blank()._replace(casilla=B3, lista_nominal=120),
    make_acta(casilla=C3, votes={"PAN": 300}, lista_nominal=100),
    make_acta(casilla=E4, lista_nominal=80, sin_acta=MotivoSinActa.PAQUETE_NO_ENTREGADO),
    make_acta(casilla=B9, votes={"PAN": 10}, lista_nominal=90, fuera_catalogo=True),
]


def corte(nivel, *, rule_settings=None):
    return tally(
        decided(ACTAS, election=ELECTION, settings=rule_settings),
        election=ELECTION,
        nivel=nivel,
        esperadas=ESPERADAS,
    )


def test_the_summary_of_a_small_corte_has_its_13_fields_in_order():
    (entidad,) = corte(Nivel.ENTIDAD).values()
    fields = entidad.summary.fields(participacion=Participacion.FINAL)
    assert list(fields) == list(SUMMARY_FIELDS)
    assert fields == {
        "ACTAS_ESPERADAS": "8",
        "ACTAS_REGISTRADAS": "8",  # seven of the catalog and the one fuera de catálogo
        "ACTAS_FUERA_CATALOGO": "1",
        "ACTAS_CAPTURADAS": "7",
        "PORCENTAJE_ACTAS_CAPTURADAS": "87.5000",
        "ACTAS_CONTABILIZADAS": "4",
        "PORCENTAJE_ACTAS_CONTABILIZADAS": "50.0000",
        "PORCENTAJE_ACTAS_INCONSISTENCIAS": "37.5000",  # ilegible, todos ilegibles, excede
        "ACTAS_NO_CONTABILIZADAS": "3",
        "LISTA_NOMINAL_ACTAS_CONTABILIZADAS": "450",  # 200 + 150 + 0 (especial) + 100
        "TOTAL_VOTOS_C_CS": "186",  # 85 + 43 + 30 + 28
        "TOTAL_VOTOS_S_CS": "156",  # without the casilla especial's 30
        "PORCENTAJE_PARTICIPACION_CIUDADANA": "41.3333",  # 186 / 450
    }


def test_participation_during_operation_leaves_the_casillas_especiales_out():
    (entidad,) = corte(Nivel.ENTIDAD).values()
    final = entidad.summary.fields(participacion=Participacion.FINAL)
    operacion = entidad.summary.fields(participacion=Participacion.OPERACION)
    assert operacion["PORCENTAJE_PARTICIPACION_CIUDADANA"] == "34.6666"  # 156 / 450, truncated
    assert final["PORCENTAJE_PARTICIPACION_CIUDADANA"] == "41.3333"
    assert {k for k in final if final[k] != operacion[k]} == {"PORCENTAJE_PARTICIPACION_CIUDADANA"}


def test_votes_per_contender_add_only_the_counted_actas():
    (entidad,) = corte(Nivel.ENTIDAD).values()
    # PAN: 50 + 20 (ILEGIBLE adds zero; 300 exceeded; 10 is fuera de catálogo).
    assert entidad.votos == [70, 65, 40, 2, 0]
    assert (entidad.no_registrados, entidad.nulos) == (1, 8)
    assert entidad.total_votos == entidad.summary.total_votos_c_cs == 186


def test_a_casilla_especial_adds_to_total_votos_c_cs_but_not_s_cs():
    especial = make_acta(casilla=make_casilla(tipo="S"), votes={"PAN": 40})
    basica = make_acta(votes={"PAN": 60}, lista_nominal=100)
    summary = Summary()
    for acta, decision in decided([especial, basica], election=ELECTION):
        summary.add(acta, decision)
    assert (summary.total_votos_c_cs, summary.total_votos_s_cs) == (100, 60)


@pytest.mark.parametrize(
    ("acta", "inconsistent"),
    [
        (make_acta(votes={"PAN": ILEGIBLE}, lista_nominal=50), True),
        (all_blank(), True),
        (make_acta(votes={"PAN": 500}, lista_nominal=50), True),
        (make_acta(votes={"PAN": 10}, lista_nominal=50), False),
        *((make_acta(lista_nominal=50, sin_acta=motivo), False) for motivo in MotivoSinActa),
        (make_acta(votes={"PAN": ILEGIBLE}, fuera_catalogo=True), False),
    ],
    ids=[
        "algun dato ilegible",
        "todos ilegibles",
        "excede",
        "no observation",
        *(f"sin acta {m.value.lower()}" for m in MotivoSinActa),
        "fuera de catalogo",
    ],
)
def test_inconsistencias_count_rules_2_to_4_and_never_sin_acta(acta, inconsistent):
    summary = Summary(actas_esperadas=1)
    for pair in decided([acta], election=ELECTION):
        summary.add(*pair)
    assert summary.actas_inconsistencias == int(inconsistent)
    expected = "100.0000" if inconsistent else "0.0000"
    fields = summary.fields(participacion=Participacion.FINAL)
    assert fields["PORCENTAJE_ACTAS_INCONSISTENCIAS"] == expected


# -- every level -----------------------------------------------------------------------


def test_the_entidad_level_has_one_territory():
    assert list(corte(Nivel.ENTIDAD)) == [(23,)]


def test_the_distrito_level_splits_actas_and_esperadas_by_distrito():
    distritos = corte(Nivel.DISTRITO)
    assert set(distritos) == {(23, 1), (23, 2)}
    uno = distritos[(23, 1)]
    dos = distritos[(23, 2)]
    assert uno.votos == [70, 65, 40, 2, 0]
    assert dos.votos == [0, 0, 0, 0, 0]
    uno_fields = uno.summary.fields(participacion=Participacion.FINAL)
    assert (
        uno_fields["ACTAS_ESPERADAS"],
        uno_fields["ACTAS_REGISTRADAS"],
        uno_fields["ACTAS_FUERA_CATALOGO"],
        uno_fields["ACTAS_CONTABILIZADAS"],
        uno_fields["PORCENTAJE_ACTAS_CONTABILIZADAS"],
        uno_fields["PORCENTAJE_ACTAS_INCONSISTENCIAS"],
        uno_fields["TOTAL_VOTOS_C_CS"],
    ) == ("4", "4", "0", "4", "100.0000", "25.0000", "186")
    dos_fields = dos.summary.fields(participacion=Participacion.FINAL)
    assert (
        dos_fields["ACTAS_ESPERADAS"],
        dos_fields["ACTAS_REGISTRADAS"],
        dos_fields["ACTAS_FUERA_CATALOGO"],
        dos_fields["ACTAS_CAPTURADAS"],
        dos_fields["PORCENTAJE_ACTAS_CAPTURADAS"],
        dos_fields["ACTAS_CONTABILIZADAS"],
        dos_fields["PORCENTAJE_ACTAS_INCONSISTENCIAS"],
        dos_fields["ACTAS_NO_CONTABILIZADAS"],
        dos_fields["PORCENTAJE_PARTICIPACION_CIUDADANA"],
    ) == ("4", "4", "1", "3", "75.0000", "0", "50.0000", "3", "0.0000")


def test_the_municipio_level_groups_by_municipio():
    municipios = corte(Nivel.MUNICIPIO)
    assert set(municipios) == {(23, 10), (23, 11), (23, 12)}
    assert municipios[(23, 10)].votos == [50, 30, 40, 2, 0]
    assert municipios[(23, 11)].votos == [20, 35, 0, 0, 0]
    assert municipios[(23, 11)].summary.total_votos_s_cs == 28
    assert municipios[(23, 12)].summary.actas_esperadas == 4


def test_the_seccion_level_knows_a_seccion_with_no_expected_acta():
    secciones = corte(Nivel.SECCION)
    assert set(secciones) == {(23, 1), (23, 2), (23, 3), (23, 4), (23, 9)}
    nueve = secciones[(23, 9)].summary
    assert (nueve.actas_esperadas, nueve.actas_registradas, nueve.actas_fuera_catalogo) == (
        0,
        1,
        1,
    )
    cuatro = secciones[(23, 4)].summary
    assert (cuatro.actas_esperadas, cuatro.actas_capturadas, cuatro.actas_contabilizadas) == (
        2,
        1,
        0,
    )


def test_the_casilla_level_has_one_territory_per_casilla():
    casillas = corte(Nivel.CASILLA)
    assert len(casillas) == 9
    basica = casillas[(23, 1, "B", 1, 0)]
    assert basica.votos == [50, 30, 0, 0, 0]
    assert (
        basica.summary.fields(participacion=Participacion.FINAL)[
            "PORCENTAJE_PARTICIPACION_CIUDADANA"
        ]
        == "42.5000"
    )  # 85 / 200
    never_arrived = casillas[(23, 4, "B", 1, 0)].summary
    assert (never_arrived.actas_esperadas, never_arrived.actas_registradas) == (1, 0)


# -- properties: every level adds up ---------------------------------------------------

GEO = st.tuples(
    st.sampled_from([5, 23]),  # entidad
    st.integers(1, 3),  # distrito
    st.integers(1, 3),  # municipio
    st.integers(1, 6),  # sección
    st.sampled_from("BCES"),
    st.integers(1, 3),  # id_casilla
)
FIELD = st.one_of(
    st.integers(0, 400),
    st.integers(0, 400),
    st.sampled_from([Marca.ILEGIBLE, Marca.SIN_DATO, Marca.NO_APLICA]),
)

SPEC_KEYS = {
    Nivel.ENTIDAD: lambda c: (c.id_entidad,),
    Nivel.DISTRITO: lambda c: (c.id_entidad, c.id_distrito),
    Nivel.MUNICIPIO: lambda c: (c.id_entidad, c.id_municipio),
    Nivel.SECCION: lambda c: (c.id_entidad, c.seccion),
    Nivel.CASILLA: lambda c: (c.id_entidad, c.seccion, c.tipo, c.id_casilla, c.ext_contigua),
}
"""DOMAIN.md §2: entidad → distritos / municipios → secciones → casillas."""


def geo_casilla(geo):
    entidad, distrito, municipio, seccion, tipo, id_casilla = geo
    return make_casilla(
        id_entidad=entidad,
        id_distrito=distrito,
        id_municipio=municipio,
        seccion=seccion,
        tipo=tipo,
        id_casilla=id_casilla,
    )


@st.composite
def random_actas(draw):
    election = ELECTION
    acta = make_acta(
        election=election,
        casilla=geo_casilla(draw(GEO)),
        votes={c: draw(FIELD) for c in election.columns},
        no_registrados=draw(FIELD),
        nulos=draw(FIELD),
        lista_nominal=draw(st.integers(0, 900)),
        representantes=draw(st.integers(0, 20)),
        sin_acta=draw(st.one_of(st.none(), st.none(), st.sampled_from(MotivoSinActa))),
        fuera_catalogo=draw(st.integers(0, 9)) == 0,
    )
    return acta


RULES = st.builds(
    RuleSettings,
    representantes=st.sampled_from(Representantes),
    boletas_especial=st.integers(0, 1000),
)


@settings(max_examples=80, deadline=None)
@given(
    actas=st.lists(random_actas(), max_size=40),
    esperadas=st.lists(GEO.map(geo_casilla), max_size=40),
    rule_settings=RULES,
    nivel=st.sampled_from(Nivel),
)
def test_totals_at_every_level_are_the_sum_over_the_actas_below(
    actas, esperadas, rule_settings, nivel
):
    pairs = decided(actas, election=ELECTION, settings=rule_settings)
    result = tally(pairs, election=ELECTION, nivel=nivel, esperadas=esperadas)
    key = SPEC_KEYS[nivel]

    expected = defaultdict(lambda: defaultdict(int))
    for c in esperadas:
        expected[key(c)]["esperadas"] += 1
    for acta, decision in pairs:
        territory = expected[key(acta.casilla)]
        territory["registradas"] += 1
        if acta.fuera_catalogo:
            territory["fuera"] += 1
            continue
        if decision.observacion is not None and acta.sin_acta is None:
            territory["inconsistencias"] += 1
        if not decision.contabilizada:
            continue
        territory["contabilizadas"] += 1
        territory["lista_nominal"] += acta.lista_nominal
        fields = [*acta.votos, acta.no_registrados, acta.nulos]
        for i, value in enumerate(fields):
            if isinstance(value, int):
                territory[("voto", i)] += value
                territory["c_cs"] += value
                if acta.casilla.tipo != "S":
                    territory["s_cs"] += value

    assert set(result) == set(expected)
    width = len(ELECTION.contenders)
    for territory_key, found in result.items():
        want = expected[territory_key]
        assert found.votos == [want[("voto", i)] for i in range(width)]
        assert found.no_registrados == want[("voto", width)]
        assert found.nulos == want[("voto", width + 1)]
        s = found.summary
        assert (
            s.actas_esperadas,
            s.actas_registradas,
            s.actas_fuera_catalogo,
            s.actas_capturadas,
            s.actas_contabilizadas,
            s.actas_no_contabilizadas,
            s.actas_inconsistencias,
            s.lista_nominal_contabilizadas,
            s.total_votos_c_cs,
            s.total_votos_s_cs,
        ) == (
            want["esperadas"],
            want["registradas"],
            want["fuera"],
            want["registradas"] - want["fuera"],
            want["contabilizadas"],
            want["registradas"] - want["fuera"] - want["contabilizadas"],
            want["inconsistencias"],
            want["lista_nominal"],
            want["c_cs"],
            want["s_cs"],
        )
        assert found.total_votos == s.total_votos_c_cs


@settings(max_examples=60, deadline=None)
@given(
    actas=st.lists(random_actas(), max_size=40),
    esperadas=st.lists(GEO.map(geo_casilla), max_size=40),
    rule_settings=RULES,
)
def test_summing_the_distritos_gives_the_entidad(actas, esperadas, rule_settings):
    pairs = decided(actas, election=ELECTION, settings=rule_settings)
    entidades = tally(pairs, election=ELECTION, nivel=Nivel.ENTIDAD, esperadas=esperadas)
    distritos = tally(pairs, election=ELECTION, nivel=Nivel.DISTRITO, esperadas=esperadas)

    for (entidad,), whole in entidades.items():
        parts = [t for (e, _), t in distritos.items() if e == entidad]
        summed = Summary()
        for part in parts:
            summed.merge(part.summary)
        assert [sum(p.votos[i] for p in parts) for i in range(len(whole.votos))] == whole.votos
        assert sum(p.no_registrados for p in parts) == whole.no_registrados
        assert sum(p.nulos for p in parts) == whole.nulos
        for participacion in Participacion:
            assert summed.fields(participacion=participacion) == whole.summary.fields(
                participacion=participacion
            )
    assert {e for e, _ in distritos} == {e for (e,) in entidades}
