"""The corte's fast per-acta paths give exactly what the plain definitions give.

A national corte formats, decides and tallies half a million actas, so the writer, the
rules and the tally take shortcuts for the common acta; these tables hold the acta
shapes (marks, sin acta, especiales, empty provenance, an empty ballot) on which a
shortcut could drift from the definition it stands for.
"""

from __future__ import annotations

import io

import pytest

from openprep.core.model import ActaRecord, Marca, MotivoSinActa
from openprep.core.prepdb_write import format_row, write_prepdb
from openprep.core.rules import (
    RuleSettings,
    contabilizar,
    regla_algun_dato_ilegible_o_sin_dato,
    total_votos_calculado,
)
from openprep.core.tally import SUMMARY_FIELDS as SUMMARY
from openprep.core.tally import Nivel, TerritoryTally, tally
from tests.core.builders import decided, make_acta, make_casilla, make_election

ELECTION = make_election()
PROVENANCE = {
    "sha": "ab" * 32,
    "fecha_hora_acopio": "2027-06-06 20:01:02",
    "fecha_hora_captura": "2027-06-06 20:11:02",
    "fecha_hora_verificacion": "2027-06-06 20:21:02",
    "mecanismo_traslado": "F",
    "origen": "CATD",
    "digitalizacion": "ESCANER",
    "tipo_documento": "ACTA PREP",
}

ACTAS = [
    make_acta(votes={"PAN": 120, "PRI": 7}, lista_nominal=500, **PROVENANCE),
    make_acta(votes={"PAN": 120}, lista_nominal=50, representantes=3),  # excede
    make_acta(votes={"PAN": Marca.ILEGIBLE, "PRI": 4}, nulos=Marca.SIN_DATO, lista_nominal=90),
    make_acta(fill=Marca.ILEGIBLE, no_registrados=Marca.SIN_DATO, nulos=Marca.ILEGIBLE),
    make_acta(votes={"CAND_IND_1": Marca.NO_APLICA, "MORENA": 9}, lista_nominal=30),
    make_acta(fill=Marca.NO_APLICA, no_registrados=2, nulos=1, lista_nominal=3),
    make_acta(sin_acta=MotivoSinActa.PAQUETE_NO_ENTREGADO, lista_nominal=700),
    make_acta(
        casilla=make_casilla(tipo="S", seccion=1234, id_casilla=12, ext_contigua=3),
        votes={"PAN": 760},
        control=(1, Marca.ILEGIBLE, 3, 4),
        total_votos_asentado=Marca.SIN_DATO,
    ),
    make_acta(casilla=make_casilla(id_entidad=5, seccion=7, ext_contigua=11), tipo_acta="12"),
]


@pytest.mark.parametrize("acta", ACTAS)
def test_the_rules_total_and_observation_are_the_rule_functions(acta: ActaRecord):
    decision = contabilizar(acta, election=ELECTION, settings=RuleSettings())
    assert decision.total_votos_calculado == total_votos_calculado(acta)
    if decision.contabilizada:
        assert decision.observacion == regla_algun_dato_ilegible_o_sin_dato(acta)


def test_the_rules_decide_the_table_as_the_law_says():
    decisions = [contabilizar(a, election=ELECTION, settings=RuleSettings()) for a in ACTAS]
    assert [(d.contabilizada, d.observacion and d.observacion.value) for d in decisions] == [
        (True, None),
        (False, "EXCEDE_LISTA_NOMINAL"),
        (True, "ALGUN_DATO_ILEGIBLE_O_SIN_DATO"),
        (False, "TODOS_ILEGIBLES_O_SIN_DATO"),
        (True, None),
        (True, None),
        (False, "SIN_ACTA_PAQUETE_NO_ENTREGADO"),
        (False, "EXCEDE_LISTA_NOMINAL"),
        (True, None),
    ]
    assert [d.total_votos_calculado for d in decisions] == [127, 120, 4, 0, 9, 3, 0, 760, 0]


def _rows(text: str) -> list[str]:
    return text.split("\n")[7:-2]


@pytest.mark.parametrize("election", [ELECTION, make_election(())], ids=["ballot", "empty"])
def test_each_catalog_row_is_format_rows_cells_joined_by_pipes(election):
    actas = [a._replace(votos=a.votos[: len(election.contenders)]) for a in ACTAS]
    settings = RuleSettings()
    rows = decided(actas, election=election, settings=settings)
    out = io.StringIO()
    write_prepdb(
        out, election=election, corte="c", summary=dict.fromkeys(SUMMARY, "0"), rows=rows,
        settings=settings,
    )  # fmt: skip
    expected = ["|".join(format_row(a, d, settings=settings)) for a, d in rows]
    assert _rows(out.getvalue()) == expected


def test_a_record_off_the_ballots_width_is_refused_as_before():
    settings = RuleSettings()
    acta = make_acta(votes={"PAN": 1}, lista_nominal=100)
    short = acta._replace(votos=acta.votos[:-1])
    rows = decided([short], election=ELECTION, settings=settings)
    with pytest.raises(ValueError, match="delimiter"):
        write_prepdb(
            io.StringIO(), election=ELECTION, corte="c", summary=dict.fromkeys(SUMMARY, "0"),
            rows=rows, settings=settings,
        )  # fmt: skip


def test_a_tally_adds_numbers_and_skips_marks_column_by_column():
    actas = [
        make_acta(votes={"PAN": 3, "PRI": 4}, lista_nominal=100),
        make_acta(votes={"PAN": Marca.NO_APLICA, "PRI": 5, "MORENA": 1}, lista_nominal=100),
        make_acta(votes={"PAN": Marca.ILEGIBLE, "PRI": 6}, lista_nominal=100),
        make_acta(votes={"PAN": 100}, lista_nominal=10),  # excede: not added
    ]
    (t,) = tally(decided(actas, election=ELECTION), election=ELECTION, nivel=Nivel.ENTIDAD).values()
    assert isinstance(t, TerritoryTally)
    assert t.votos == [3, 15, 1, 0, 0]
    assert t.summary.actas_contabilizadas == 3
