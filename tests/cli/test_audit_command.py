"""``openprep audit FILE``, run as an auditor runs it: a real subprocess, no database."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import pytest

from tests.core.prepdb_files import (
    BAD_FILES,
    REFERENCE,
    BadFile,
    column_index,
    reads_as_spanish,
    reference_lines,
    reference_rows,
    summary_names,
    summary_values,
    with_cells,
)

REPORT_KEYS = {"election", "corte", "published", "recomputed", "discrepancies", "warnings"}
PARTIES_AND_INDEPENDENTS = [
    c
    for c in reference_lines()[6].split("|")[16 : column_index("NO_REGISTRADOS")]
    if not c.startswith("C_")
]


def run_audit(*args: str | Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONIOENCODING": "utf-8",
        "OPENPREP_DATA_DIR": str(workdir / "var"),
    }
    return subprocess.run(
        [sys.executable, "-m", "openprep", "audit", *map(str, args)],
        capture_output=True,
        encoding="utf-8",
        errors="replace",
        timeout=120,
        cwd=workdir,
        env=env,
        check=False,
    )


def only_json_object(stdout: str) -> dict:
    """The one JSON object stdout holds; fails if anything else is printed."""
    decoder = json.JSONDecoder()
    text = stdout.strip()
    report, end = decoder.raw_decode(text)
    assert end == len(text), f"more than one JSON value: {text[end : end + 80]!r}"
    assert isinstance(report, dict)
    return report


def truncated(numerator: int, denominator: int) -> str:
    """An independent 4-decimal truncation, for expected percentages."""
    value = Decimal(numerator * 100) / Decimal(denominator)
    return str(value.quantize(Decimal("0.0001"), rounding=ROUND_DOWN))


def acta_discrepancies(report: dict) -> set[tuple[str, str, str, str, int]]:
    return {
        (d["clave_acta"], d["field"], d["published"], d["recomputed"], d["line"])
        for d in report["discrepancies"]
        if d["clave_acta"] is not None
    }


def summary_discrepancies(report: dict) -> dict[str, tuple[str, str]]:
    return {
        d["field"]: (d["published"], d["recomputed"])
        for d in report["discrepancies"]
        if d["clave_acta"] is None
    }


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("audit")


@pytest.fixture(scope="module")
def reference_json(workdir):
    return run_audit(REFERENCE, "--json", workdir=workdir)


# -- the reference file --------------------------------------------------------------


def test_the_reference_file_audits_consistent_and_exits_0(reference_json):
    assert reference_json.returncode == 0, reference_json.stderr
    assert reference_json.stderr == ""


def test_json_prints_exactly_one_object_with_the_report_keys(reference_json):
    report = only_json_object(reference_json.stdout)
    assert set(report) == REPORT_KEYS
    assert report["election"] == "DIPUTACIONES LOCALES"
    assert report["corte"] == "2019/06/03 05:47 (UTC-5)"
    assert report["discrepancies"] == []


def test_json_summaries_are_spelled_as_in_the_file_and_hold_strings(reference_json):
    report = only_json_object(reference_json.stdout)
    published_in_file = dict(zip(summary_names(), summary_values(), strict=True))
    assert len(published_in_file) == 13
    for block in ("published", "recomputed"):
        assert list(report[block]) == summary_names()
        assert all(isinstance(v, str) for v in report[block].values())
    assert report["published"] == published_in_file
    assert report["recomputed"] == report["published"]


def test_the_human_report_of_the_reference_file_is_spanish(workdir):
    result = run_audit(REFERENCE, workdir=workdir)
    assert result.returncode == 0
    assert "Consistente" in result.stdout
    assert "Resumen" in result.stdout and "Recalculado" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


# -- tampered copies -----------------------------------------------------------------


def first_plain_acta() -> dict[str, str]:
    """The first acta of the file that counts with no observation and no blank cell."""
    return next(
        r
        for r in reference_rows()
        if r["CONTABILIZADA"] == "1" and not r["OBSERVACIONES"] and r["TIPO_CASILLA"] != "S"
    )


def test_a_changed_vote_exits_1_with_a_discrepancy_for_that_actas_total(workdir):
    row = first_plain_acta()
    line = int(row["line"])
    copy = workdir / "voto_cambiado.csv"
    copy.write_bytes(with_cells({line: {"MORENA": str(int(row["MORENA"]) + 5)}}))

    result = run_audit(copy, "--json", workdir=workdir)
    assert result.returncode == 1, result.stderr
    report = only_json_object(result.stdout)
    total = int(row["TOTAL_VOTOS_CALCULADO"])
    assert acta_discrepancies(report) == {
        (row["CLAVE_ACTA"], "TOTAL_VOTOS_CALCULADO", str(total), str(total + 5), line)
    }
    published = report["published"]
    assert summary_discrepancies(report)["TOTAL_VOTOS_C_CS"] == (
        published["TOTAL_VOTOS_C_CS"],
        str(int(published["TOTAL_VOTOS_C_CS"]) + 5),
    )


def test_the_human_report_names_the_differing_acta_in_spanish(workdir):
    row = first_plain_acta()
    copy = workdir / "voto_cambiado_humano.csv"
    copy.write_bytes(with_cells({int(row["line"]): {"PAN": str(int(row["PAN"]) + 1)}}))

    result = run_audit(copy, workdir=workdir)
    assert result.returncode == 1
    out = result.stdout
    assert row["CLAVE_ACTA"] in out
    assert "TOTAL_VOTOS_CALCULADO" in out
    assert "Actas con diferencias" in out
    assert "Inconsistente" in out
    assert "Traceback" not in out + result.stderr


def test_votes_pushed_above_the_limit_are_reported_as_not_counting(workdir):
    row = first_plain_acta()
    line = int(row["line"])
    on_ballot = sum(1 for c in PARTIES_AND_INDEPENDENTS if row[c] != "-")
    limit = int(row["LISTA_NOMINAL"]) + 2 * on_ballot
    total = int(row["TOTAL_VOTOS_CALCULADO"])
    nulos = int(row["NULOS"]) + (limit + 1 - total)
    # A faithful total for the new votes, but CONTABILIZADA and OBSERVACIONES as published.
    copy = workdir / "excede.csv"
    copy.write_bytes(
        with_cells({line: {"NULOS": str(nulos), "TOTAL_VOTOS_CALCULADO": str(limit + 1)}})
    )

    result = run_audit(copy, "--json", workdir=workdir)
    assert result.returncode == 1, result.stderr
    report = only_json_object(result.stdout)
    clave = row["CLAVE_ACTA"]
    assert acta_discrepancies(report) == {
        (clave, "CONTABILIZADA", "1", "0", line),
        (clave, "OBSERVACIONES", "", "EXCEDE LISTA NOMINAL", line),
    }
    p = {k: int(v) for k, v in report["published"].items() if "PORCENTAJE" not in k}
    esperadas = p["ACTAS_ESPERADAS"]
    contabilizadas = p["ACTAS_CONTABILIZADAS"] - 1
    lista_nominal = p["LISTA_NOMINAL_ACTAS_CONTABILIZADAS"] - int(row["LISTA_NOMINAL"])
    c_cs = p["TOTAL_VOTOS_C_CS"] - total
    inconsistencias = 462 + 30 + 1  # reference README: (462 + 30) / 2136, plus this one
    assert summary_discrepancies(report) == {
        "ACTAS_CONTABILIZADAS": (str(p["ACTAS_CONTABILIZADAS"]), str(contabilizadas)),
        "PORCENTAJE_ACTAS_CONTABILIZADAS": (
            report["published"]["PORCENTAJE_ACTAS_CONTABILIZADAS"],
            truncated(contabilizadas, esperadas),
        ),
        "PORCENTAJE_ACTAS_INCONSISTENCIAS": (
            report["published"]["PORCENTAJE_ACTAS_INCONSISTENCIAS"],
            truncated(inconsistencias, esperadas),
        ),
        "ACTAS_NO_CONTABILIZADAS": (
            str(p["ACTAS_NO_CONTABILIZADAS"]),
            str(p["ACTAS_NO_CONTABILIZADAS"] + 1),
        ),
        "LISTA_NOMINAL_ACTAS_CONTABILIZADAS": (
            str(p["LISTA_NOMINAL_ACTAS_CONTABILIZADAS"]),
            str(lista_nominal),
        ),
        "TOTAL_VOTOS_C_CS": (str(p["TOTAL_VOTOS_C_CS"]), str(c_cs)),
        "TOTAL_VOTOS_S_CS": (str(p["TOTAL_VOTOS_S_CS"]), str(p["TOTAL_VOTOS_S_CS"] - total)),
        "PORCENTAJE_PARTICIPACION_CIUDADANA": (
            report["published"]["PORCENTAJE_PARTICIPACION_CIUDADANA"],
            truncated(c_cs, lista_nominal),
        ),
    }


def actas_relying_on_the_allowance() -> dict[str, int]:
    """Counted actas whose votes exceed lista nominal + REPRESENTANTES_PP_CI: ``{clave: line}``."""
    return {
        r["CLAVE_ACTA"]: int(r["line"])
        for r in reference_rows()
        if r["CONTABILIZADA"] == "1"
        and r["TIPO_CASILLA"] != "S"
        and int(r["TOTAL_VOTOS_CALCULADO"])
        > int(r["LISTA_NOMINAL"]) + int(r["REPRESENTANTES_PP_CI"])
    }


def test_representantes_columna_changes_the_verdict_on_the_six_actas_that_need_the_allowance(
    workdir,
):
    relying = actas_relying_on_the_allowance()
    assert len(relying) == 6

    result = run_audit(REFERENCE, "--json", "--representantes", "columna", workdir=workdir)
    assert result.returncode == 1, result.stderr
    report = only_json_object(result.stdout)
    expected = set()
    for clave, line in relying.items():
        expected.add((clave, "CONTABILIZADA", "1", "0", line))
        observacion = next(r["OBSERVACIONES"] for r in reference_rows() if r["CLAVE_ACTA"] == clave)
        expected.add((clave, "OBSERVACIONES", observacion, "EXCEDE LISTA NOMINAL", line))
    assert acta_discrepancies(report) == expected
    assert summary_discrepancies(report)["ACTAS_CONTABILIZADAS"] == ("2031", "2025")


# -- warnings ------------------------------------------------------------------------


def test_actas_captured_before_their_acopio_are_warnings(reference_json):
    report = only_json_object(reference_json.stdout)
    rows = reference_rows()
    expected = {
        (r["CLAVE_ACTA"], int(r["line"]))
        for r in rows
        if r["FECHA_HORA_ACOPIO"]
        and r["FECHA_HORA_CAPTURA"]
        and r["FECHA_HORA_CAPTURA"] < r["FECHA_HORA_ACOPIO"]
    }
    assert expected  # the real file has them
    found = {(w["clave_acta"], w["line"]) for w in report["warnings"] if "acopio" in w["message"]}
    assert found == expected
    for w in report["warnings"]:
        if "acopio" in w["message"]:
            row = rows[w["line"] - 8]
            assert row["FECHA_HORA_ACOPIO"] in w["message"]
            assert row["FECHA_HORA_CAPTURA"] in w["message"]


def test_every_warning_on_the_reference_file_is_explained_by_its_columns(reference_json):
    report = only_json_object(reference_json.stdout)
    rows = reference_rows()
    explained = set()
    for r in rows:
        key = (r["CLAVE_ACTA"], int(r["line"]))
        acopio, captura, verificacion = (
            r["FECHA_HORA_ACOPIO"],
            r["FECHA_HORA_CAPTURA"],
            r["FECHA_HORA_VERIFICACION"],
        )
        if acopio and captura and captura < acopio:
            explained.add(key)
        if captura and verificacion and verificacion < captura:
            explained.add(key)
        if not r["SHA"] and not r["OBSERVACIONES"].startswith("SIN ACTA"):
            explained.add(key)
    allowance = {(c, line) for c, line in allowance_users().items()}
    warned = {(w["clave_acta"], w["line"]) for w in report["warnings"]}
    assert allowance <= warned
    assert warned == explained | allowance


def allowance_users() -> dict[str, int]:
    """Counted actas with more votes than lista nominal (the allowance lets them count)."""
    return {
        r["CLAVE_ACTA"]: int(r["line"])
        for r in reference_rows()
        if r["CONTABILIZADA"] == "1"
        and r["TIPO_CASILLA"] != "S"
        and int(r["TOTAL_VOTOS_CALCULADO"]) > int(r["LISTA_NOMINAL"])
    }


# -- files that cannot be read -------------------------------------------------------


@pytest.fixture(scope="module")
def bad_file_runs(workdir):
    """Every broken file through the command, run side by side to keep the suite fast."""
    folder = workdir / "malos"
    folder.mkdir()

    def run(bad: BadFile):
        path = folder / bad.filename
        path.write_bytes(bad.build())
        return bad.id, run_audit(path, workdir=workdir)

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return dict(pool.map(run, BAD_FILES))


@pytest.mark.parametrize("bad", BAD_FILES, ids=lambda b: b.id)
def test_a_broken_file_exits_2_with_a_spanish_message_naming_file_and_line(bad_file_runs, bad):
    result = bad_file_runs[bad.id]
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stdout + result.stderr
    message = result.stderr.strip()
    assert bad.filename in message
    assert re.search(rf"\blínea {bad.line}\b", message), message
    if bad.column:
        assert f"columna {bad.column}" in message
    assert reads_as_spanish(message), message


def test_a_missing_file_exits_2_without_a_traceback(workdir):
    result = run_audit(workdir / "no_existe.csv", workdir=workdir)
    assert result.returncode == 2
    assert "no_existe.csv" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_a_negative_number_of_special_ballots_exits_2(workdir):
    result = run_audit(REFERENCE, "--boletas-especial", "-1", workdir=workdir)
    assert result.returncode == 2
    assert "--boletas-especial" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


# -- published text is shown as it is -------------------------------------------------


@pytest.mark.parametrize(
    ("line", "column", "value"),
    [(8, "CONTABILIZADA", "[/x]"), (8, "CONTABILIZADA", "[red]1"), (9, "OBSERVACIONES", "[b]")],
)
def test_the_human_report_shows_published_text_literally(workdir, line, column, value):
    copy = workdir / "marcado.csv"
    copy.write_bytes(with_cells({line: {column: value}}))
    result = run_audit(copy, workdir=workdir)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stdout + result.stderr
    assert value in result.stdout


def test_the_human_report_shows_an_election_name_literally(workdir):
    lines = reference_lines()
    lines[1] = "DIPUTACIONES [/] LOCALES"
    copy = workdir / "nombre.csv"
    copy.write_text("\n".join(lines), encoding="utf-8")
    result = run_audit(copy, workdir=workdir)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "DIPUTACIONES [/] LOCALES" in result.stdout
