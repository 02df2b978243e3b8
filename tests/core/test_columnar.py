"""The columnar audit gives exactly the row path's report, or hands the file to it.

Every test audits one file twice, with ``audit_rows`` (PrepDbReader + core.audit, the
reference implementation) and with the columnar path, and compares the whole outcome:
the report's JSON and its acta count, or the exception. Files are the reference
database (IEQROO 2019) with cells edited, so they look like what an auditor is handed.
Where the columnar path should apply, the test also proves it did (``audit_columnar``
must not refuse), so an equality can never hold only because everything fell back.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from openprep.core import columnar
from openprep.core.columnar import NotColumnar, audit_columnar, audit_file, audit_rows
from openprep.core.prepdb import MAX_LINE_CHARS
from openprep.core.rules import (
    INE_LABELS,
    REFERENCE_LABELS,
    Participacion,
    Representantes,
    RuleSettings,
)
from openprep.core.tally import SUMMARY_FIELDS

REFERENCE = Path(
    os.environ.get(
        "OPENPREP_REFERENCE",
        Path(__file__).resolve().parents[3] / "shared" / "reference" / "QROO_DIP_LOC_2019.csv",
    )
)
FIRST_ROW_LINE = 8
DEFAULT = RuleSettings()
ALL_SETTINGS = [
    RuleSettings(representantes=r, boletas_especial=b, participacion=p)
    for r in Representantes
    for b in (0, 750)
    for p in Participacion
]
CONTENDERS = [
    "PAN", "PRI", "PRD", "PVEM", "PT", "MC", "MORENA", "MAS", "CQROO", "PESQROO",
    "C_PAN_PRD_PESQROO", "C_PAN_PRD", "C_PAN_PESQROO", "C_PRD_PESQROO", "C_PVEM_PT_MORENA",
    "C_PVEM_PT", "C_PVEM_MORENA", "C_PT_MORENA", "CAND_IND_1", "CAND_IND_2", "CAND_IND_3",
]  # fmt: skip
VOTE_FIELDS = [*CONTENDERS, "NO_REGISTRADOS", "NULOS"]


# -- files ---------------------------------------------------------------------------


class Database:
    """The reference database as editable cells: ``db.row(8)["PAN"] = "8"``."""

    def __init__(self) -> None:
        lines = REFERENCE.read_text(encoding="utf-8").split("\n")
        self.head = lines[: FIRST_ROW_LINE - 1]
        self.columns = self.head[-1].split("|")
        self.rows = [dict(zip(self.columns, t.split("|"), strict=True)) for t in lines[7:] if t]
        self.extra: dict[int, str] = {}
        """Raw text that replaces a row's line (for rows no dict can express)."""

    def row(self, line: int) -> dict[str, str]:
        return self.rows[line - FIRST_ROW_LINE]

    def find(self, **cells: str) -> dict[str, str]:
        """The first row whose cells hold these values."""
        return next(r for r in self.rows if all(r[k] == v for k, v in cells.items()))

    def line_of(self, row: dict[str, str]) -> int:
        return self.rows.index(row) + FIRST_ROW_LINE

    def lines(self) -> list[str]:
        rows = ["|".join(r[c] for c in self.columns) for r in self.rows]
        for line, text in self.extra.items():
            rows[line - FIRST_ROW_LINE] = text
        return [*self.head, *rows]

    def write(self, path: Path, *, newline: str = "\n", end: str = "\n\n") -> Path:
        path.write_bytes((newline.join(self.lines()) + end.replace("\n", newline)).encode())
        return path


def setting_id(settings: RuleSettings) -> str:
    return f"{settings.representantes}-{settings.boletas_especial}-{settings.participacion}"


def total(row: dict[str, str]) -> int:
    """TOTAL_VOTOS_CALCULADO as the rules compute it."""
    return sum(int(row[c]) for c in VOTE_FIELDS if row[c].isdigit())


@pytest.fixture
def db() -> Database:
    return Database()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "PREP.csv"


# -- comparing -----------------------------------------------------------------------


def outcome(audit: Callable[[], Any]) -> tuple[Any, ...]:
    """The report (JSON and acta count) or the exception an audit ends with."""
    try:
        report = audit()
    except Exception as exc:
        return ("error", type(exc).__name__, str(exc))
    return ("report", report.as_json(), report.actas)


def assert_same(path: Path, settings: RuleSettings = DEFAULT) -> dict[str, Any]:
    """The columnar path runs (no fallback) and reports exactly what the row path does."""
    expected = outcome(lambda: audit_rows(path, settings=settings))
    assert expected[0] == "report", expected
    fast = audit_columnar(path, settings=settings)
    assert ("report", fast.as_json(), fast.actas) == expected
    assert outcome(lambda: audit_file(path, settings=settings)) == expected
    result: dict[str, Any] = expected[1]
    return result


def assert_falls_back(path: Path, settings: RuleSettings = DEFAULT) -> tuple[Any, ...]:
    """The columnar path refuses the file, and audit_file ends as the row path does."""
    with pytest.raises(NotColumnar):
        audit_columnar(path, settings=settings)
    expected = outcome(lambda: audit_rows(path, settings=settings))
    assert outcome(lambda: audit_file(path, settings=settings)) == expected
    return expected


def fields_at(report: dict[str, Any], line: int) -> list[str]:
    return [d["field"] for d in report["discrepancies"] if d["line"] == line]


def warnings_at(report: dict[str, Any], line: int) -> list[str]:
    return [w["message"] for w in report["warnings"] if w["line"] == line]


@contextmanager
def batches_of(size: int) -> Iterator[None]:
    saved = columnar.BATCH_BYTES
    columnar.BATCH_BYTES = size
    try:
        yield
    finally:
        columnar.BATCH_BYTES = saved


# -- the reference file ------------------------------------------------------------


@pytest.mark.parametrize("settings", ALL_SETTINGS, ids=setting_id)
def test_the_reference_audits_the_same_under_every_setting(settings: RuleSettings) -> None:
    report = assert_same(REFERENCE, settings)
    if settings == DEFAULT:
        assert report["discrepancies"] == []
        assert report["recomputed"] == report["published"]


def test_the_settings_make_a_difference_the_columnar_path_sees() -> None:
    findings = {repr(assert_same(REFERENCE, s)["discrepancies"]) for s in ALL_SETTINGS}
    assert len(findings) > 4


def test_the_reference_with_ine_labels_audits_the_same() -> None:
    report = assert_same(REFERENCE, RuleSettings(labels=INE_LABELS))
    assert report["discrepancies"] == []  # published labels are read in either table


@pytest.mark.parametrize("size", [10_000, 100_000])
def test_batches_of_any_size_give_the_same_report(size: int, db: Database, path: Path) -> None:
    # Findings on both sides of many batch boundaries, with a repeated SHA across them.
    db.row(8)["PAN"] = "8"
    db.rows[-1]["SHA"] = db.row(8)["SHA"]
    db.rows[1000]["FECHA_HORA_CAPTURA"] = "2019-06-02 00:00:00"
    db.write(path)
    with batches_of(size):
        report = assert_same(path)
    assert fields_at(report, 8) == ["TOTAL_VOTOS_CALCULADO"]
    assert any("mismo SHA" in m for m in warnings_at(report, db.line_of(db.rows[-1])))


# -- edited cells the columnar path reads ------------------------------------------


def test_a_vote_changed_without_updating_the_totals(db: Database, path: Path) -> None:
    db.row(8)["PAN"] = "8"
    report = assert_same(db.write(path))
    assert fields_at(report, 8) == ["TOTAL_VOTOS_CALCULADO"]
    assert {d["field"] for d in report["discrepancies"] if d["clave_acta"] is None} == {
        "TOTAL_VOTOS_C_CS",
        "TOTAL_VOTOS_S_CS",
        "PORCENTAJE_PARTICIPACION_CIUDADANA",
    }


@pytest.mark.parametrize("published", ["0", "X", ""])
def test_a_counted_acta_published_as_not_counted(published: str, db: Database, path: Path) -> None:
    db.row(8)["CONTABILIZADA"] = published
    report = assert_same(db.write(path))
    assert fields_at(report, 8) == ["CONTABILIZADA"]


def test_an_acta_that_does_not_count_published_as_counted(db: Database, path: Path) -> None:
    row = db.find(OBSERVACIONES="TODOS ILEGIBLES O SIN DATO")
    row["CONTABILIZADA"] = "1"
    report = assert_same(db.write(path))
    assert fields_at(report, db.line_of(row)) == ["CONTABILIZADA"]


@pytest.mark.parametrize(
    ("label", "fields"),
    [
        ("", ["OBSERVACIONES"]),
        ("EXCEDE LISTA NOMINAL", ["OBSERVACIONES"]),
        ("UN DATO RARO", ["OBSERVACIONES"]),
        ("SIN ACTA POR CASILLA NO INSTALADA", ["CONTABILIZADA"]),  # the label decides
        ("Ilegible o sin dato", []),
        ("algun dato ilegible o sin dato", []),
        ("Ilegible, Sin dato", []),
    ],
)
def test_an_observation_removed_or_changed(
    label: str, fields: list[str], db: Database, path: Path
) -> None:
    row = db.find(OBSERVACIONES="ALGUN DATO ILEGIBLE O SIN DATO")
    row["OBSERVACIONES"] = label
    report = assert_same(db.write(path))
    assert fields_at(report, db.line_of(row)) == fields


def test_a_sin_acta_label_removed_makes_a_counted_acta(db: Database, path: Path) -> None:
    row = db.find(OBSERVACIONES="SIN ACTA POR PAQUETE NO ENTREGADO")
    row["OBSERVACIONES"] = ""
    report = assert_same(db.write(path))
    assert fields_at(report, db.line_of(row)) == ["CONTABILIZADA"]
    assert "no publica el SHA de su imagen." in warnings_at(report, db.line_of(row))


@pytest.mark.parametrize("settings", ALL_SETTINGS, ids=setting_id)
def test_an_acta_exactly_at_the_limit_counts_and_one_above_does_not(
    settings: RuleSettings, db: Database, path: Path
) -> None:
    at_limit, above, full = db.row(8), db.row(10), db.row(12)
    full["LISTA_NOMINAL"] = str(total(full))  # every voter voted: no warning
    # Ten parties on these ballots: the allowance is 20 (or REPRESENTANTES_PP_CI).
    for row, extra in ((at_limit, 0), (above, 1)):
        allowance = (
            int(row["REPRESENTANTES_PP_CI"])
            if settings.representantes is Representantes.COLUMNA
            else 20
        )
        row["LISTA_NOMINAL"] = str(total(row) - allowance - extra)
    report = assert_same(db.write(path), settings)
    assert any("superan la lista nominal" in m for m in warnings_at(report, 8))
    assert {"CONTABILIZADA", "OBSERVACIONES"} <= set(fields_at(report, 10))
    assert warnings_at(report, 12) == []


@pytest.mark.parametrize("settings", ALL_SETTINGS, ids=setting_id)
def test_an_especial_over_its_ballots_and_allowance(
    settings: RuleSettings, db: Database, path: Path
) -> None:
    row = db.find(TIPO_CASILLA="S")
    row["PAN"] = str(int(row["PAN"]) + 750 + 20 + 1 - total(row))
    row["TOTAL_VOTOS_CALCULADO"] = str(total(row))
    report = assert_same(db.write(path), settings)
    assert "OBSERVACIONES" in fields_at(report, db.line_of(row))


@pytest.mark.parametrize("marks", [["SIN DATO"], ["ILEGIBLE"], ["SIN DATO", "ILEGIBLE"]])
def test_all_vote_fields_blank(marks: list[str], db: Database, path: Path) -> None:
    row = db.row(8)
    fields = [c for c in VOTE_FIELDS if row[c] != "-"]
    for i, name in enumerate(fields):
        row[name] = marks[i % len(marks)]
    report = assert_same(db.write(path))
    assert {"TOTAL_VOTOS_CALCULADO", "CONTABILIZADA", "OBSERVACIONES"} <= set(fields_at(report, 8))


def test_a_repeated_sha(db: Database, path: Path) -> None:
    sha = db.row(8)["SHA"]
    db.row(12)["SHA"] = sha
    db.rows[-1]["SHA"] = sha
    report = assert_same(db.write(path))
    message = f"su imagen tiene el mismo SHA que la del acta {db.row(8)['CLAVE_ACTA']}."
    assert warnings_at(report, 12) == [message]
    assert warnings_at(report, db.line_of(db.rows[-1])) == [message]


def test_a_missing_sha(db: Database, path: Path) -> None:
    db.row(8)["SHA"] = ""
    report = assert_same(db.write(path))
    assert warnings_at(report, 8) == ["no publica el SHA de su imagen."]


def test_captured_before_acopio_and_verified_before_capture(db: Database, path: Path) -> None:
    db.row(8)["FECHA_HORA_CAPTURA"] = "2019-06-03 01:00:00"
    db.row(9)["FECHA_HORA_VERIFICACION"] = "2019-06-02 01:00:00"
    report = assert_same(db.write(path))
    assert [m.split(" ")[0] for m in warnings_at(report, 8)] == ["capturada"]
    assert [m.split(" ")[0] for m in warnings_at(report, 9)] == ["verificada"]


@pytest.mark.parametrize(
    ("clave", "differs"),
    [
        ('="230085B0100"', False),
        ("230085B0100", False),
        ("'230085B0100", False),
        ('="230086B0100"', True),
        ('="230085b0100"', True),
    ],
)
def test_clave_casilla_written_each_way(
    clave: str, differs: bool, db: Database, path: Path
) -> None:
    db.row(8)["CLAVE_CASILLA"] = clave
    report = assert_same(db.write(path))
    assert ("CLAVE_CASILLA" in fields_at(report, 8)) is differs


@pytest.mark.parametrize(
    ("cells", "fields"),
    [
        ({"CLAVE_ACTA": "230085B010003"}, ["CLAVE_ACTA"]),
        ({"TIPO_ACTA": "02"}, []),
        ({"TIPO_ACTA": "3"}, ["CLAVE_ACTA"]),
        ({"SECCION": "0085"}, []),
        ({"SECCION": "86"}, ["CLAVE_CASILLA", "CLAVE_ACTA"]),
        ({"ID_ESTADO": "123"}, ["CLAVE_CASILLA", "CLAVE_ACTA"]),
        ({"TOTAL_VOTOS_CALCULADO": "077"}, ["TOTAL_VOTOS_CALCULADO"]),
        ({"TOTAL_VOTOS_CALCULADO": ""}, ["TOTAL_VOTOS_CALCULADO"]),
        ({"TOTAL_VOTOS_CALCULADO": "setenta"}, ["TOTAL_VOTOS_CALCULADO"]),
        ({"PAN": "0007"}, []),
        (
            {"PAN": "4000000000", "PRI": "4000000000", "TOTAL_VOTOS_CALCULADO": "8000000063"},
            ["CONTABILIZADA", "OBSERVACIONES"],
        ),
        ({"NULOS": "-"}, ["TOTAL_VOTOS_CALCULADO"]),
        ({"CAND_IND_1": "0"}, []),
        ({"REPRESENTANTES_PP_CI": ""}, []),
        ({"UBICACION_CASILLA": ""}, []),
        ({"TOTAL_BOLETAS_SOBRANTES": "ILEGIBLE"}, []),
    ],
)
def test_identity_and_figures_edited(
    cells: dict[str, str], fields: list[str], db: Database, path: Path
) -> None:
    db.row(8).update(cells)
    for settings in (DEFAULT, RuleSettings(representantes=Representantes.COLUMNA)):
        report = assert_same(db.write(path), settings)
        assert fields_at(report, 8) == fields


def test_a_changed_summary_value(db: Database, path: Path) -> None:
    values = db.head[4].split("|")
    values[SUMMARY_FIELDS.index("ACTAS_ESPERADAS")] = "3000"
    db.head[4] = "|".join(values)
    report = assert_same(db.write(path))
    assert [d["field"] for d in report["discrepancies"]] == [
        "PORCENTAJE_ACTAS_CAPTURADAS",
        "PORCENTAJE_ACTAS_CONTABILIZADAS",
        "PORCENTAJE_ACTAS_INCONSISTENCIAS",
    ]


@pytest.mark.parametrize(
    "cells",
    [
        {"CLAVE_CASILLA": "-", "TIPO_ACTA": "-", "CONTABILIZADA": "0"},
        {"CLAVE_CASILLA": "-", "TIPO_ACTA": "-", "CONTABILIZADA": "1"},
        {"CLAVE_CASILLA": '="-"', "CONTABILIZADA": "2", "SECCION": "-", "LISTA_NOMINAL": "x"},
        {"CONTABILIZADA": "2"},
        {"CLAVE_CASILLA": "", "ID_ESTADO": "", "SHA": ""},
    ],
)
def test_an_acta_fuera_de_catalogo(cells: dict[str, str], db: Database, path: Path) -> None:
    row = db.row(20)
    row.update(cells)
    db.rows[-1]["SHA"] = row["SHA"]  # its SHA still counts as seen
    db.rows[-1]["CLAVE_ACTA"] = row["CLAVE_ACTA"]  # its CLAVE_ACTA does not
    db.rows[-1]["CLAVE_CASILLA"] = "-"
    report = assert_same(db.write(path))
    recomputed = {d["field"]: d["recomputed"] for d in report["discrepancies"]}
    assert recomputed["ACTAS_FUERA_CATALOGO"] == "2"


def test_a_database_without_rows(db: Database, path: Path) -> None:
    db.rows = []
    report = assert_same(db.write(path))
    assert report["recomputed"]["ACTAS_REGISTRADAS"] == "0"


@pytest.mark.parametrize(
    ("newline", "end"),
    [("\n", ""), ("\n", "\n"), ("\n", "\n\n\n\n"), ("\r\n", "\n"), ("\r\n", "\n\n"), ("\r\n", "")],
)
def test_line_ends_and_trailing_blank_lines(
    newline: str, end: str, db: Database, path: Path
) -> None:
    db.row(8)["PAN"] = "8"
    db.rows[-1]["PAN"] = "1000"
    report = assert_same(db.write(path, newline=newline, end=end))
    assert fields_at(report, 8) == ["TOTAL_VOTOS_CALCULADO"]


def test_a_bom_and_crlf(db: Database, path: Path) -> None:
    db.write(path, newline="\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert_same(path)


def test_ine_column_names_commas_and_missing_optional_columns(db: Database, path: Path) -> None:
    dropped = {"REPRESENTANTES_PP_CI", "SHA", "FECHA_HORA_ACOPIO", "UBICACION_CASILLA"}
    renamed = {"ID_ESTADO": "ID_ENTIDAD", "NO_REGISTRADOS": "NO_REGISTRADAS"}
    db.columns = [c for c in db.columns if c not in dropped]
    db.head[0] = "sep=,"
    db.head = [line.replace("|", ",") for line in db.head]
    db.head[-1] = ",".join(renamed.get(c, c) for c in db.columns)
    path.write_text("\n".join(
        [*db.head, *(",".join(r[c] for c in db.columns) for r in db.rows)]
    ) + "\n")  # fmt: skip
    for settings in ALL_SETTINGS:
        report = assert_same(path, settings)
        assert len(report["warnings"]) > 2000  # no SHA published


# -- what the columnar path leaves to the row path ----------------------------------


@pytest.mark.parametrize(
    ("column", "cell"),
    [
        ("PAN", "abc"),
        ("PAN", ""),
        ("PAN", " 7"),
        ("PAN", "7 "),
        ("PAN", "+7"),
        ("PAN", "-7"),
        ("PAN", "7.0"),
        ("PAN", "٣"),
        ("PAN", "1" * 19),
        ("PAN", str(1 << 32)),
        ("NULOS", "ilegible"),
        ("TOTAL_VOTOS_ASENTADO", ""),
        ("ID_ESTADO", ""),
        ("ID_ESTADO", "-"),
        ("SECCION", "SIN DATO"),
        ("LISTA_NOMINAL", "x"),
        ("REPRESENTANTES_PP_CI", "-"),
        ("CLAVE_CASILLA", ' ="230085B0100"'),
        ("CLAVE_CASILLA", '="230085B0100'),
        ("CLAVE_CASILLA", " -"),
        ("CONTABILIZADA", " 2"),
        ("ESTADO", "QUINTANA\rROO"),
        ("ESTADO", "x" * MAX_LINE_CHARS),
    ],
)
def test_a_cell_the_row_path_must_judge(column: str, cell: str, db: Database, path: Path) -> None:
    db.row(9)[column] = cell
    assert_falls_back(db.write(path))


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda db: db.row(9).update(PAN="7|1"), id="a cell too many"),
        pytest.param(lambda db: db.row(9).update(PAN="7", PRI="1|1|1"), id="cells too many"),
        pytest.param(lambda db: db.extra.update({9: db.lines()[8].rsplit("|", 1)[0]}), id="short"),
        pytest.param(lambda db: db.extra.update({9: db.lines()[8] + "\n"}), id="a blank line"),
        pytest.param(lambda db: db.extra.update({9: "   "}), id="a line of spaces"),
        pytest.param(lambda db: db.row(9).update(ESTADO='"QUINTANA ROO"'), id="a quoted cell"),
        pytest.param(lambda db: db.row(9).update(ESTADO='QUINTANA "ROO"'), id="a quote inside"),
        pytest.param(lambda db: db.row(9).update(CLAVE_ACTA=db.row(8)["CLAVE_ACTA"]), id="dup"),
        pytest.param(lambda db: db.extra.update({9: "\ufeff" + db.lines()[8]}), id="a BOM"),
    ],
)
def test_a_row_the_row_path_must_judge(
    edit: Callable[[Database], Any], db: Database, path: Path
) -> None:
    edit(db)
    assert_falls_back(db.write(path))


def test_a_blank_line_before_the_first_row(db: Database, path: Path) -> None:
    db.head.append("")
    db.row(10)["PAN"] = "1000"
    assert_falls_back(db.write(path))


def test_a_blank_line_that_ends_a_batch(db: Database, path: Path) -> None:
    db.extra[8] = db.lines()[7] + "\n"
    db.row(10)["PAN"] = "1000"  # a finding after it, whose line number must be right
    db.write(path)
    with batches_of(len(db.lines()[7]) + 1):  # the first batch is line 8 and the blank
        assert_falls_back(path)


def test_a_bom_that_starts_a_batch(db: Database, path: Path) -> None:
    db.extra[9] = "\ufeff" + db.lines()[8]
    db.write(path)
    with batches_of(len(db.lines()[7]) + 10):  # the second batch starts at line 9
        assert_falls_back(path)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda b: b[:-300] + b"\xff" + b[-299:], id="not utf-8"),
        pytest.param(lambda b: b.replace(b"ACTA PREP\n", b"ACTA PREP\r", 3), id="bare CR"),
        pytest.param(lambda b: b.replace(b"\n", b"\r", 2), id="bare CR in the header"),
    ],
)
def test_damaged_bytes(damage: Callable[[bytes], bytes], db: Database, path: Path) -> None:
    db.write(path)
    path.write_bytes(damage(path.read_bytes()))
    assert_falls_back(path)


def test_a_header_the_reader_rejects_raises_its_error(path: Path) -> None:
    path.write_text("sep=|\nDIPUTACIONES LOCALES\n")
    expected = outcome(lambda: audit_rows(path, settings=DEFAULT))
    assert expected[:2] == ("error", "PrepDbError")
    assert outcome(lambda: audit_columnar(path, settings=DEFAULT)) == expected
    assert outcome(lambda: audit_file(path, settings=DEFAULT)) == expected


# -- generated databases ------------------------------------------------------------

IDENTITY = [
    "CLAVE_CASILLA", "CLAVE_ACTA", "ID_ESTADO", "ESTADO", "ID_DISTRITO", "DISTRITO", "SECCION",
    "ID_CASILLA", "TIPO_CASILLA", "EXT_CONTIGUA", "UBICACION_CASILLA", "TIPO_ACTA",
]  # fmt: skip
CONTROL = ["TOTAL_BOLETAS_SOBRANTES", "TOTAL_PERSONAS_VOTARON", "TOTAL_REP_PARTIDO_CI_VOTARON",
           "TOTAL_VOTOS_SACADOS"]  # fmt: skip
TAIL = [
    "NO_REGISTRADOS", "NULOS", "TOTAL_VOTOS_ASENTADO", "TOTAL_VOTOS_CALCULADO", "LISTA_NOMINAL",
    "REPRESENTANTES_PP_CI", "OBSERVACIONES", "CONTABILIZADA", "MECANISMOS_TRASLADO", "SHA",
    "FECHA_HORA_ACOPIO", "FECHA_HORA_CAPTURA", "FECHA_HORA_VERIFICACION", "ORIGEN",
    "DIGITALIZACION", "TIPO_DOCUMENTO",
]  # fmt: skip
OPTIONAL = ["REPRESENTANTES_PP_CI", "SHA", "FECHA_HORA_ACOPIO", "UBICACION_CASILLA", "ESTADO"]
LABELS = ["", *REFERENCE_LABELS.values(), *INE_LABELS.values(), "Ilegible, Sin dato", "OTRA"]
TIMES = ["", "2019-06-02 21:00:00", "2019-06-02 23:30:00", "2019-06-03 01:15:00"]
MARKS = ["ILEGIBLE", "SIN DATO", "-"]
ODD = ["", " 1", "x", "+1", "1.0", "٣", "ilegible", str(1 << 32), "9" * 19]


def cells(draw: st.DrawFn, *, valid: bool, number: st.SearchStrategy[int]) -> str:
    """A numeric cell: mostly a number or a mark, sometimes (``valid=False``) odd."""
    kind = draw(st.integers(0, 9 if valid else 11))
    if kind <= 5:
        return str(draw(number))
    if kind <= 7:
        return "0" + str(draw(number))  # leading zeros read as the number
    if kind <= 9:
        return draw(st.sampled_from(MARKS))
    return draw(st.sampled_from(ODD))


@st.composite
def databases(draw: st.DrawFn, *, valid: bool) -> tuple[bytes, RuleSettings]:
    """A small PREP database, its bytes and the settings to audit it with.

    ``valid`` databases hold only what the reader accepts, with unique CLAVE_ACTA; the
    others may hold any cell, repeated keys, blank lines or quotes.
    """
    parties = draw(st.lists(st.sampled_from(["PAN", "PRI", "MC", "MORENA"]), min_size=1,
                            max_size=3, unique=True))  # fmt: skip
    others = draw(st.lists(st.sampled_from(["C_PAN_PRI", "CAND_IND_1"]), unique=True))
    dropped = set(draw(st.lists(st.sampled_from(OPTIONAL), unique=True)))
    columns = [c for c in [*IDENTITY, *CONTROL, *parties, *others, *TAIL] if c not in dropped]
    delimiter = draw(st.sampled_from(["|", ","]))
    votes = st.integers(0, 300)
    lines = []
    for n in range(draw(st.integers(0, 8))):
        tipo = draw(st.sampled_from("BCS"))
        seccion = n + 1 if valid else draw(st.integers(1, 3))
        ext = draw(st.integers(0, 2))
        clave = f"23{seccion:04d}{tipo}01{ext:02d}"
        tipo_acta = "3" if tipo == "S" else "2"
        row = {
            "CLAVE_CASILLA": draw(
                st.sampled_from([f'="{clave}"', clave, f"'{clave}", f'="{clave[:-1]}9"', "-"])
            ),
            "CLAVE_ACTA": clave + draw(st.sampled_from(["0" + tipo_acta, tipo_acta])),
            "ID_ESTADO": "23",
            "ESTADO": "QUINTANA ROO",
            "ID_DISTRITO": draw(st.sampled_from(["1", "2", ""])),
            "DISTRITO": "DISTRITO 1",
            "SECCION": str(seccion),
            "ID_CASILLA": "1",
            "TIPO_CASILLA": tipo,
            "EXT_CONTIGUA": str(ext),
            "UBICACION_CASILLA": "1",
            "TIPO_ACTA": tipo_acta,
            "LISTA_NOMINAL": str(draw(st.integers(0, 400))) if tipo != "S" else "0",
            "REPRESENTANTES_PP_CI": draw(st.sampled_from(["0", "4", "10", ""])),
            "OBSERVACIONES": draw(
                st.sampled_from([label for label in LABELS if delimiter not in label or not valid])
            ),
            "CONTABILIZADA": draw(st.sampled_from(["0", "1", "1", "2", "X"])),
            "MECANISMOS_TRASLADO": "F",
            "SHA": draw(st.sampled_from(["", "a1", "b2", "c3", f"d{n}", f"e{n}"])),
            "FECHA_HORA_ACOPIO": draw(st.sampled_from(TIMES)),
            "FECHA_HORA_CAPTURA": draw(st.sampled_from(TIMES)),
            "FECHA_HORA_VERIFICACION": draw(st.sampled_from(TIMES)),
            "ORIGEN": "CATD",
            "DIGITALIZACION": "ESCANER",
            "TIPO_DOCUMENTO": "ACTA PREP",
        }
        for name in [*CONTROL, *parties, *others, "NO_REGISTRADOS", "NULOS",
                     "TOTAL_VOTOS_ASENTADO"]:  # fmt: skip
            row[name] = cells(draw, valid=valid, number=votes)
        if not valid:
            for name in draw(st.lists(st.sampled_from(["ID_ESTADO", "SECCION", "LISTA_NOMINAL"]))):
                row[name] = draw(st.sampled_from(ODD + MARKS))
        computed = sum(int(row[c]) for c in [*parties, *others, "NO_REGISTRADOS", "NULOS"]
                       if row[c].isdigit() and row[c].isascii() and len(row[c]) < 19)  # fmt: skip
        row["TOTAL_VOTOS_CALCULADO"] = draw(st.sampled_from([str(computed), "0", "1"]))
        lines.append(delimiter.join(row[c] for c in columns))
        if not valid and draw(st.integers(0, 20)) == 0:
            lines.append(draw(st.sampled_from(["", '"x"', delimiter * 3])))
    summary = [str(draw(st.integers(0, 9))) for _ in SUMMARY_FIELDS]
    head = [f"sep={delimiter}", "DIPUTACIONES LOCALES", "2019/06/03 05:47 (UTC-5)",
            delimiter.join(SUMMARY_FIELDS), delimiter.join(summary), "",
            delimiter.join(columns)]  # fmt: skip
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    end = draw(st.sampled_from(["", newline, newline * 2]))
    data = (newline.join([*head, *lines]) + end).encode()
    settings = RuleSettings(
        representantes=draw(st.sampled_from(list(Representantes))),
        boletas_especial=draw(st.sampled_from([0, 10, 750])),
        participacion=draw(st.sampled_from(list(Participacion))),
        labels=draw(st.sampled_from([REFERENCE_LABELS, INE_LABELS])),
    )
    return data, settings


def audit_bytes(data: bytes, settings: RuleSettings, *, batch: int) -> tuple[Any, Any, Path]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "PREP.csv"
        path.write_bytes(data)
        with batches_of(batch):
            rows = outcome(lambda: audit_rows(path, settings=settings))
            fast = outcome(lambda: audit_file(path, settings=settings))
            columnar_only = outcome(lambda: audit_columnar(path, settings=settings))
    return rows, fast, columnar_only


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(database=databases(valid=True), batch=st.sampled_from([64, 1_000, 1 << 20]))
def test_valid_generated_databases_take_the_columnar_path_to_the_same_report(
    database: tuple[bytes, RuleSettings], batch: int
) -> None:
    data, settings = database
    rows, fast, columnar_only = audit_bytes(data, settings, batch=batch)
    assert rows[0] == "report"
    assert fast == rows
    assert columnar_only == rows  # it never had to fall back


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(database=databases(valid=False), batch=st.sampled_from([64, 1 << 20]))
def test_any_generated_database_ends_as_the_row_path_ends(
    database: tuple[bytes, RuleSettings], batch: int
) -> None:
    data, settings = database
    rows, fast, columnar_only = audit_bytes(data, settings, batch=batch)
    assert fast == rows
    assert columnar_only in (rows, ("error", "NotColumnar", columnar_only[2]))


def test_every_warning_on_one_acta_keeps_the_row_paths_order(db: Database, path: Path) -> None:
    row = db.row(9)
    row["LISTA_NOMINAL"] = str(total(row) - 20)  # counts at the limit: a warning
    row["FECHA_HORA_CAPTURA"] = "2019-06-03 01:00:00"  # before acopio, after verificación
    row["FECHA_HORA_VERIFICACION"] = "2019-06-03 00:30:00"
    db.row(20)["SHA"] = row["SHA"] = db.row(8)["SHA"]
    db.row(20).update(FECHA_HORA_ACOPIO="2019-06-03 05:00:00")
    report = assert_same(db.write(path))
    assert [m.split(" ")[0] for m in warnings_at(report, 9)] == [
        "cuenta",
        "capturada",
        "verificada",
        "su",
    ]
    assert [m.split(" ")[0] for m in warnings_at(report, 20)] == ["capturada", "su"]
