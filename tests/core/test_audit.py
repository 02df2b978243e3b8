"""The audit of a published database, in process (the CLI is tested in tests/cli)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from openprep.core.audit import audit
from openprep.core.prepdb import PrepDbReader
from openprep.core.rules import Observacion, Representantes, RuleSettings, contabilizar
from openprep.core.tally import SUMMARY_FIELDS
from tests.core.prepdb_files import (
    REFERENCE,
    head,
    ine_2021,
    join,
    reference_rows,
    with_cells,
)


def audit_file(path: Path, settings: RuleSettings | None = None):
    settings = settings or RuleSettings()
    with PrepDbReader(path, settings=settings) as reader:
        return audit(reader.header, reader.rows(), settings=settings)


def audit_bytes(tmp_path: Path, data: bytes, settings: RuleSettings | None = None):
    path = tmp_path / "copia.csv"
    path.write_bytes(data)
    return audit_file(path, settings)


@pytest.fixture(scope="module")
def reference_report():
    return audit_file(REFERENCE)


def test_the_rules_reproduce_every_acta_and_the_summary_of_the_reference(reference_report):
    assert reference_report.consistent
    assert reference_report.discrepancies == []
    assert reference_report.recomputed == reference_report.published
    assert list(reference_report.recomputed) == list(SUMMARY_FIELDS)
    assert reference_report.actas == 2136


def test_the_reference_decisions_split_as_its_readme_says():
    settings = RuleSettings()
    with PrepDbReader(REFERENCE, settings=settings) as reader:
        election = reader.header.election
        decisions = [
            contabilizar(r.acta, election=election, settings=settings) for r in reader.rows()
        ]
    counted = Counter(d.observacion for d in decisions if d.contabilizada)
    not_counted = Counter(d.observacion for d in decisions if not d.contabilizada)
    assert counted == {None: 1569, Observacion.ALGUN_DATO_ILEGIBLE_O_SIN_DATO: 462}
    assert not_counted == {
        Observacion.TODOS_ILEGIBLES_O_SIN_DATO: 30,
        Observacion.SIN_ACTA_PAQUETE_SIN_SOBRE: 49,
        Observacion.SIN_ACTA_PAQUETE_NO_ENTREGADO: 26,
    }


def test_a_changed_vote_is_found_in_its_acta_and_in_the_summary(tmp_path):
    row = reference_rows()[0]
    report = audit_bytes(tmp_path, with_cells({8: {"PAN": str(int(row["PAN"]) + 1)}}))
    acta_level = [d for d in report.discrepancies if d.clave_acta]
    assert [(d.clave_acta, d.field, d.published, d.recomputed, d.line) for d in acta_level] == [
        (row["CLAVE_ACTA"], "TOTAL_VOTOS_CALCULADO", "77", "78", 8)
    ]
    summary_level = {d.field for d in report.discrepancies if d.clave_acta is None}
    assert summary_level == {
        "TOTAL_VOTOS_C_CS",
        "TOTAL_VOTOS_S_CS",
        "PORCENTAJE_PARTICIPACION_CIUDADANA",
    }


def test_an_unknown_observation_label_is_a_discrepancy_not_a_crash(tmp_path):
    report = audit_bytes(tmp_path, with_cells({8: {"OBSERVACIONES": "ACTA RARA"}}))
    assert [(d.field, d.published, d.recomputed) for d in report.discrepancies] == [
        ("OBSERVACIONES", "ACTA RARA", "")
    ]


def test_a_clave_acta_that_does_not_match_its_casilla_is_a_discrepancy(tmp_path):
    report = audit_bytes(tmp_path, with_cells({8: {"CLAVE_ACTA": "230085B010003"}}))
    assert [(d.field, d.published, d.recomputed) for d in report.discrepancies] == [
        ("CLAVE_ACTA", "230085B010003", "230085B010002")
    ]


def test_actas_fuera_de_catalogo_are_registered_but_never_counted(tmp_path):
    published = reference_rows()[0]
    rows = 20
    data = ine_2021(rows, fuera=(0,))
    report = audit_bytes(tmp_path, data)
    # The file's summary is the whole state's: only the counts of these rows matter.
    assert report.recomputed["ACTAS_REGISTRADAS"] == str(rows)
    assert report.recomputed["ACTAS_FUERA_CATALOGO"] == "1"
    assert report.recomputed["ACTAS_CAPTURADAS"] == str(rows - 1)
    assert not [d for d in report.discrepancies if d.clave_acta == published["CLAVE_ACTA"]]


def test_the_same_image_hash_on_two_actas_is_a_warning(tmp_path):
    first, second = reference_rows()[:2]
    report = audit_bytes(tmp_path, with_cells({9: {"SHA": first["SHA"]}}, lines=head(3)))
    flagged = [(w.clave_acta, w.line) for w in report.warnings if first["CLAVE_ACTA"] in w.message]
    assert flagged == [(second["CLAVE_ACTA"], 9)]


def test_an_acta_without_the_hash_of_its_image_is_a_warning(tmp_path):
    first = reference_rows()[0]
    report = audit_bytes(tmp_path, with_cells({8: {"SHA": ""}}, lines=head(1)))
    assert [(w.clave_acta, w.line) for w in report.warnings] == [(first["CLAVE_ACTA"], 8)]


def test_a_verification_before_its_capture_is_a_warning(tmp_path):
    row = reference_rows()[0]
    data = with_cells({8: {"FECHA_HORA_VERIFICACION": "2019-06-03 02:50:00"}}, lines=head(1))
    report = audit_bytes(tmp_path, data)
    assert [(w.clave_acta, w.line) for w in report.warnings] == [(row["CLAVE_ACTA"], 8)]
    assert "2019-06-03 02:50:00" in report.warnings[0].message


def test_representantes_columna_does_not_count_the_actas_that_need_the_allowance():
    report = audit_file(REFERENCE, RuleSettings(representantes=Representantes.COLUMNA))
    relying = {
        r["CLAVE_ACTA"]
        for r in reference_rows()
        if r["CONTABILIZADA"] == "1"
        and r["TIPO_CASILLA"] != "S"
        and int(r["TOTAL_VOTOS_CALCULADO"])
        > int(r["LISTA_NOMINAL"]) + int(r["REPRESENTANTES_PP_CI"])
    }
    assert len(relying) == 6
    by_acta = Counter((d.clave_acta, d.field) for d in report.discrepancies if d.clave_acta)
    assert set(by_acta) == {(c, f) for c in relying for f in ("CONTABILIZADA", "OBSERVACIONES")}
    assert report.recomputed["ACTAS_CONTABILIZADAS"] == str(2031 - 6)


def test_a_blank_line_at_the_end_is_not_an_acta(tmp_path):
    data = join([*head(2), "", ""])
    report = audit_bytes(tmp_path, data)
    assert report.actas == 2
