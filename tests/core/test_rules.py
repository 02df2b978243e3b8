"""Contabilización (DOMAIN.md §4): which actas count, and the observation each carries.

The default election of the builders has PAN, PRI, MORENA, the coalition column
C_PAN_PRI and CAND_IND_1: four contenders accredit representatives, so with
``representantes=contendientes`` the allowance is 2 × 4 = 8 votes.
"""

from __future__ import annotations

import pytest

from openprep.core.model import Marca, MotivoSinActa
from openprep.core.prepdb import decisive_observation
from openprep.core.rules import (
    INE_LABELS,
    LABEL_TABLES,
    REFERENCE_LABELS,
    Observacion,
    Representantes,
    RuleSettings,
)
from tests.core.builders import (
    COALITION,
    INDEPENDENT,
    all_blank,
    decide,
    make_acta,
    make_casilla,
    make_election,
)

ILEGIBLE, SIN_DATO, DASH = Marca.ILEGIBLE, Marca.SIN_DATO, Marca.NO_APLICA
COLUMNA = RuleSettings(representantes=Representantes.COLUMNA)
ESPECIAL = make_casilla(tipo="S")
EXCEDE = Observacion.EXCEDE_LISTA_NOMINAL
ALGUN = Observacion.ALGUN_DATO_ILEGIBLE_O_SIN_DATO
TODOS = Observacion.TODOS_ILEGIBLES_O_SIN_DATO

# -- rule 3: excede lista nominal ------------------------------------------------------

LIMIT_CASES = [
    # (case, acta, settings, counts)
    ("at the lista nominal", make_acta(votes={"PAN": 100}, lista_nominal=100), None, True),
    (
        "exactly at lista nominal + allowance of 2 x 4 contenders",
        make_acta(votes={"PAN": 108}, lista_nominal=100),
        None,
        True,
    ),
    ("one above the limit", make_acta(votes={"PAN": 109}, lista_nominal=100), None, False),
    (
        "independent candidacy not on this ballot: allowance 2 x 3, at the limit",
        make_acta(votes={"PAN": 106, INDEPENDENT: DASH}, lista_nominal=100),
        None,
        True,
    ),
    (
        "independent candidacy not on this ballot: one above",
        make_acta(votes={"PAN": 107, INDEPENDENT: DASH}, lista_nominal=100),
        None,
        False,
    ),
    (
        "a coalition column not on the ballot changes nothing",
        make_acta(votes={"PAN": 108, COALITION: DASH}, lista_nominal=100),
        None,
        True,
    ),
    (
        "coalition columns, no registrados and nulos add to the total: at the limit",
        make_acta(votes={"PAN": 50, COALITION: 30}, no_registrados=8, nulos=20, lista_nominal=100),
        None,
        True,
    ),
    (
        "coalition columns, no registrados and nulos add to the total: one above",
        make_acta(votes={"PAN": 50, COALITION: 30}, no_registrados=9, nulos=20, lista_nominal=100),
        None,
        False,
    ),
    (
        "ordinary casilla with lista nominal 0: the allowance alone",
        make_acta(votes={"MORENA": 8}, lista_nominal=0),
        None,
        True,
    ),
    (
        "ordinary casilla with lista nominal 0: one above the allowance",
        make_acta(votes={"MORENA": 9}, lista_nominal=0),
        None,
        False,
    ),
    (
        "columna: the accredited representatives, at the limit",
        make_acta(votes={"PAN": 103}, lista_nominal=100, representantes=3),
        COLUMNA,
        True,
    ),
    (
        "columna: one above the accredited representatives",
        make_acta(votes={"PAN": 104}, lista_nominal=100, representantes=3),
        COLUMNA,
        False,
    ),
    (
        "columna with no representatives: one above the lista nominal",
        make_acta(votes={"PAN": 101}, lista_nominal=100, representantes=0),
        COLUMNA,
        False,
    ),
    (
        "columna ignores how many contenders are on the ballot",
        make_acta(votes={"PAN": 120}, lista_nominal=100, representantes=20),
        COLUMNA,
        True,
    ),
    (
        "contendientes ignores the REPRESENTANTES_PP_CI column",
        make_acta(votes={"PAN": 109}, lista_nominal=100, representantes=20),
        None,
        False,
    ),
    (
        "casilla especial: 750 ballots + allowance, at the limit",
        make_acta(casilla=ESPECIAL, votes={"PAN": 758}),
        None,
        True,
    ),
    (
        "casilla especial: one above 750 ballots + allowance",
        make_acta(casilla=ESPECIAL, votes={"PAN": 759}),
        None,
        False,
    ),
    (
        "casilla especial: its lista nominal (0) is not its limit",
        make_acta(casilla=ESPECIAL, votes={"PAN": 200}, lista_nominal=0),
        None,
        True,
    ),
    (
        "casilla especial: a lista nominal above the ballots does not raise the limit",
        make_acta(casilla=ESPECIAL, votes={"PAN": 900}, lista_nominal=1000),
        None,
        False,
    ),
    (
        "casilla especial with 400 approved ballots, at the limit",
        make_acta(casilla=ESPECIAL, votes={"PAN": 408}),
        RuleSettings(boletas_especial=400),
        True,
    ),
    (
        "casilla especial with 400 approved ballots, one above",
        make_acta(casilla=ESPECIAL, votes={"PAN": 409}),
        RuleSettings(boletas_especial=400),
        False,
    ),
    (
        "casilla especial, columna: ballots + accredited representatives, at the limit",
        make_acta(casilla=ESPECIAL, votes={"PAN": 752}, representantes=2),
        COLUMNA,
        True,
    ),
    (
        "casilla especial, columna: one above",
        make_acta(casilla=ESPECIAL, votes={"PAN": 753}, representantes=2),
        COLUMNA,
        False,
    ),
    (
        "casilla especial, independent not on the ballot: allowance 6, one above",
        make_acta(casilla=ESPECIAL, votes={"PAN": 757, INDEPENDENT: DASH}),
        None,
        False,
    ),
]


@pytest.mark.parametrize(
    ("acta", "settings", "counts"),
    [case[1:] for case in LIMIT_CASES],
    ids=[case[0] for case in LIMIT_CASES],
)
def test_an_acta_counts_up_to_its_limit_and_not_one_vote_above(acta, settings, counts):
    decision = decide(acta, settings=settings)
    assert decision.contabilizada is counts
    assert decision.observacion is (None if counts else EXCEDE)


def test_the_allowance_counts_parties_and_independents_but_no_coalition_column():
    # 2 parties, 3 coalition columns, 2 independent candidacies: 2 x 4 = 8.
    election = make_election(
        ["PAN", "PRD", "C_PAN_PRD", "PAN_PRD", "CC_PAN_PRD", "CAND_IND_1", "CAND_IND_2"]
    )
    at_limit = make_acta(election=election, votes={"PAN": 58}, lista_nominal=50)
    above = make_acta(election=election, votes={"PAN": 59}, lista_nominal=50)
    assert decide(at_limit, election=election).contabilizada
    assert decide(above, election=election).observacion is EXCEDE


def test_an_ilegible_field_adds_zero_to_the_total_compared_with_the_limit():
    at_limit = make_acta(votes={"PAN": 108, "PRI": ILEGIBLE}, lista_nominal=100)
    above = make_acta(votes={"PAN": 109, "PRI": ILEGIBLE}, lista_nominal=100)
    assert decide(at_limit) == (True, ALGUN, 108)
    assert decide(above) == (False, EXCEDE, 109)


def test_an_acta_over_the_limit_is_reported_with_its_total():
    decision = decide(make_acta(votes={"PAN": 300, "PRI": 9}, nulos=4, lista_nominal=100))
    assert decision.total_votos_calculado == 313
    assert RuleSettings().label(decision.observacion) == "EXCEDE LISTA NOMINAL"


# -- rules 2 and 4: ilegible and sin dato ----------------------------------------------

BLANK_CASES = [
    # (case, acta, expected decision)
    ("every vote field ILEGIBLE", all_blank(marca=ILEGIBLE), (False, TODOS, 0)),
    ("every vote field SIN DATO", all_blank(marca=SIN_DATO), (False, TODOS, 0)),
    (
        "ILEGIBLE and SIN DATO mixed, with '-' where a contender is not on the ballot",
        make_acta(
            votes={"PAN": ILEGIBLE, "PRI": SIN_DATO, "MORENA": ILEGIBLE},
            fill=DASH,
            no_registrados=SIN_DATO,
            nulos=ILEGIBLE,
        ),
        (False, TODOS, 0),
    ),
    (
        "every field blank but NULOS, a legible zero",
        make_acta(fill=ILEGIBLE, no_registrados=SIN_DATO, nulos=0),
        (True, ALGUN, 0),
    ),
    (
        "every field blank but NULOS",
        make_acta(fill=SIN_DATO, no_registrados=ILEGIBLE, nulos=3),
        (True, ALGUN, 3),
    ),
    (
        "one contender ILEGIBLE",
        make_acta(votes={"PAN": 40, "PRI": ILEGIBLE, "MORENA": 25}, nulos=2, lista_nominal=90),
        (True, ALGUN, 67),
    ),
    (
        "one contender SIN DATO",
        make_acta(votes={"PAN": 40, "PRI": SIN_DATO}, lista_nominal=90),
        (True, ALGUN, 40),
    ),
    (
        "only NULOS ILEGIBLE",
        make_acta(votes={"PAN": 40}, nulos=ILEGIBLE, lista_nominal=90),
        (True, ALGUN, 40),
    ),
    (
        "only NO_REGISTRADOS SIN DATO",
        make_acta(votes={"PAN": 40}, no_registrados=SIN_DATO, lista_nominal=90),
        (True, ALGUN, 40),
    ),
    (
        "a coalition column ILEGIBLE",
        make_acta(votes={"PAN": 40, COALITION: ILEGIBLE}, lista_nominal=90),
        (True, ALGUN, 40),
    ),
    (
        "'-' columns only: nothing blank",
        make_acta(votes={"PAN": 40, INDEPENDENT: DASH, COALITION: DASH}, lista_nominal=90),
        (True, None, 40),
    ),
    (
        # The reference database publishes such actas with no observation.
        "the control figures ILEGIBLE: they are not vote fields",
        make_acta(votes={"PAN": 40}, control=(ILEGIBLE, SIN_DATO, 0, 40), lista_nominal=90),
        (True, None, 40),
    ),
    (
        "TOTAL_VOTOS_ASENTADO SIN DATO: it is only published",
        make_acta(votes={"PAN": 40}, total_votos_asentado=SIN_DATO, lista_nominal=90),
        (True, None, 40),
    ),
]


@pytest.mark.parametrize(
    ("acta", "expected"),
    [case[1:] for case in BLANK_CASES],
    ids=[case[0] for case in BLANK_CASES],
)
def test_ilegible_and_sin_dato_fields(acta, expected):
    assert decide(acta) == expected


# -- rule 1: sin acta ------------------------------------------------------------------

SIN_ACTA_CASES = [
    (
        MotivoSinActa.PAQUETE_NO_ENTREGADO,
        Observacion.SIN_ACTA_PAQUETE_NO_ENTREGADO,
        "SIN ACTA POR PAQUETE NO ENTREGADO",
    ),
    (
        MotivoSinActa.CASILLA_NO_INSTALADA,
        Observacion.SIN_ACTA_CASILLA_NO_INSTALADA,
        "SIN ACTA POR CASILLA NO INSTALADA",
    ),
    (
        MotivoSinActa.PAQUETE_SIN_SOBRE,
        Observacion.SIN_ACTA_PAQUETE_SIN_SOBRE,
        "SIN ACTA POR PAQUETE ENTREGADO SIN SOBRE",
    ),
    (MotivoSinActa.CONTINGENCIA, Observacion.SIN_ACTA_CONTINGENCIA, "SIN ACTA POR CONTINGENCIA"),
]


@pytest.mark.parametrize(("motivo", "observacion", "label"), SIN_ACTA_CASES)
def test_an_acta_sin_acta_never_counts_and_carries_its_reason(motivo, observacion, label):
    decision = decide(make_acta(votes={"PAN": 10}, lista_nominal=100, sin_acta=motivo))
    assert not decision.contabilizada
    assert decision.observacion is observacion
    assert RuleSettings().label(decision.observacion) == label
    assert observacion.es_sin_acta
    assert not observacion.es_inconsistencia


# -- rule order ------------------------------------------------------------------------

ORDER_CASES = [
    (
        "sin acta beats todos ilegibles",
        make_acta(
            fill=ILEGIBLE,
            no_registrados=ILEGIBLE,
            nulos=SIN_DATO,
            sin_acta=MotivoSinActa.PAQUETE_SIN_SOBRE,
        ),
        None,
        Observacion.SIN_ACTA_PAQUETE_SIN_SOBRE,
    ),
    (
        "sin acta beats excede lista nominal",
        make_acta(
            votes={"PAN": 900}, lista_nominal=100, sin_acta=MotivoSinActa.CASILLA_NO_INSTALADA
        ),
        None,
        Observacion.SIN_ACTA_CASILLA_NO_INSTALADA,
    ),
    (
        "sin acta beats algún dato ilegible",
        make_acta(votes={"PAN": ILEGIBLE}, sin_acta=MotivoSinActa.CONTINGENCIA),
        None,
        Observacion.SIN_ACTA_CONTINGENCIA,
    ),
    (
        "todos ilegibles beats excede, even where the limit is zero",
        all_blank(),
        COLUMNA,
        TODOS,
    ),
    (
        "excede beats algún dato ilegible (it does not count)",
        make_acta(votes={"PAN": 500, "PRI": ILEGIBLE}, lista_nominal=100),
        None,
        EXCEDE,
    ),
]


@pytest.mark.parametrize(
    ("acta", "settings", "observacion"),
    [case[1:] for case in ORDER_CASES],
    ids=[case[0] for case in ORDER_CASES],
)
def test_the_first_rule_that_fires_decides(acta, settings, observacion):
    decision = decide(acta, settings=settings)
    assert decision.observacion is observacion
    assert not decision.contabilizada


# -- fuera de catálogo -----------------------------------------------------------------

FUERA_CASES = [
    ("with votes that would count", make_acta(votes={"PAN": 50}, lista_nominal=100)),
    ("over the limit", make_acta(votes={"PAN": 500}, lista_nominal=100)),
    ("all ilegible", all_blank()),
    ("with a sin acta reason", make_acta(sin_acta=MotivoSinActa.PAQUETE_NO_ENTREGADO)),
]


@pytest.mark.parametrize("acta", [c[1] for c in FUERA_CASES], ids=[c[0] for c in FUERA_CASES])
def test_an_acta_fuera_de_catalogo_never_counts_and_carries_no_observation(acta):
    decision = decide(acta._replace(fuera_catalogo=True))
    assert not decision.contabilizada
    assert decision.observacion is None


# -- labels ----------------------------------------------------------------------------

REFERENCE_SPELLING = {
    Observacion.ALGUN_DATO_ILEGIBLE_O_SIN_DATO: "ALGUN DATO ILEGIBLE O SIN DATO",
    Observacion.TODOS_ILEGIBLES_O_SIN_DATO: "TODOS ILEGIBLES O SIN DATO",
    Observacion.EXCEDE_LISTA_NOMINAL: "EXCEDE LISTA NOMINAL",
    Observacion.SIN_ACTA_PAQUETE_NO_ENTREGADO: "SIN ACTA POR PAQUETE NO ENTREGADO",
    Observacion.SIN_ACTA_CASILLA_NO_INSTALADA: "SIN ACTA POR CASILLA NO INSTALADA",
    Observacion.SIN_ACTA_PAQUETE_SIN_SOBRE: "SIN ACTA POR PAQUETE ENTREGADO SIN SOBRE",
}
"""DOMAIN.md §4: the labels as the reference database publishes them."""


@pytest.mark.parametrize(("observacion", "label"), REFERENCE_SPELLING.items())
def test_the_referencia_table_spells_labels_as_the_reference_database(observacion, label):
    assert LABEL_TABLES["referencia"] is REFERENCE_LABELS
    assert RuleSettings().label(observacion) == label


def test_the_ine_table_spells_excede_as_ine_does():
    settings = RuleSettings(labels=LABEL_TABLES["ine"])
    assert LABEL_TABLES["ine"] is INE_LABELS
    decision = decide(make_acta(votes={"PAN": 200}, lista_nominal=100), settings=settings)
    assert settings.label(decision.observacion) == "Excede lista nominal"


@pytest.mark.parametrize("table", sorted(LABEL_TABLES))
def test_every_observation_has_its_own_label_that_reads_back(table):
    settings = RuleSettings(labels=LABEL_TABLES[table])
    labels = [settings.label(o) for o in Observacion]
    assert all(labels) and len(set(labels)) == len(labels)
    for observacion in Observacion:
        assert settings.observacion_de_label(settings.label(observacion)) is observacion
    assert settings.label(None) == ""
    assert settings.observacion_de_label("") is None


def test_a_label_of_the_other_table_is_read_whatever_the_case():
    settings = RuleSettings()  # referencia
    assert settings.observacion_de_label("Excede lista nominal") is EXCEDE
    assert settings.observacion_de_label("excede LISTA nominal") is EXCEDE
    with pytest.raises(KeyError):
        settings.observacion_de_label("EXCEDE LA LISTA")


@pytest.mark.parametrize(
    ("published", "observacion"),
    [
        ("Ilegible", ALGUN),
        ("Sin dato", ALGUN),
        ("Ilegible, Sin dato", ALGUN),
        ("Excede lista nominal, Ilegible", EXCEDE),
        ("Ilegible, Excede lista nominal", EXCEDE),
        ("SIN ACTA POR PAQUETE NO ENTREGADO", Observacion.SIN_ACTA_PAQUETE_NO_ENTREGADO),
        ("", None),
    ],
)
def test_ine_labels_joined_with_commas_are_decided_by_the_first_rule(published, observacion):
    for table in LABEL_TABLES.values():
        assert decisive_observation(published, settings=RuleSettings(labels=table)) is observacion


def test_an_unknown_label_is_not_taken_for_another():
    with pytest.raises(KeyError):
        decisive_observation("Ilegible, Sin boleta", settings=RuleSettings())
