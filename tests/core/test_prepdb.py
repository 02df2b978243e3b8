"""The PREP database CSV (DOMAIN.md §5): reading the reference file and every variant,
writing it back byte for byte, and refusing broken files with a Spanish message."""

from __future__ import annotations

import io
import re
import tracemalloc
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openprep.core.model import (
    TIMESTAMP_FORMAT,
    ActaRecord,
    Casilla,
    Marca,
    MotivoSinActa,
    TipoContendiente,
)
from openprep.core.prepdb import MAX_LINE_CHARS, PrepDbError, PrepDbReader, write_prepdb
from openprep.core.rules import LABEL_TABLES, RuleSettings, contabilizar
from openprep.core.tally import SUMMARY_FIELDS, Summary
from tests.core.builders import decided, make_acta, make_casilla, make_election
from tests.core.prepdb_files import (
    BAD_FILES,
    FIRST_ROW_LINE,
    REFERENCE,
    BadFile,
    column_index,
    head,
    ine_2021,
    ine_2024,
    join,
    pipes_without_sep,
    reads_as_spanish,
    reference_lines,
    reference_rows,
    with_cells,
)

REFERENCE_CONTENDERS = (
    "PAN",
    "PRI",
    "PRD",
    "PVEM",
    "PT",
    "MC",
    "MORENA",
    "MAS",
    "CQROO",
    "PESQROO",
    "C_PAN_PRD_PESQROO",
    "C_PAN_PRD",
    "C_PAN_PESQROO",
    "C_PRD_PESQROO",
    "C_PVEM_PT_MORENA",
    "C_PVEM_PT",
    "C_PVEM_MORENA",
    "C_PT_MORENA",
    "CAND_IND_1",
    "CAND_IND_2",
    "CAND_IND_3",
)


def read(path: Path, settings: RuleSettings | None = None):
    with PrepDbReader(path, settings=settings or RuleSettings()) as reader:
        return reader.header, list(reader.rows())


def write_file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def reference():
    return read(REFERENCE)


# -- the reference file ------------------------------------------------------------


def test_the_reference_file_holds_2136_actas_on_lines_8_to_2143(reference):
    _, rows = reference
    assert len(rows) == 2136
    assert [row.line for row in rows] == list(range(8, 2144))


def test_its_21_contenders_are_read_in_ballot_order(reference):
    header, _ = reference
    assert header.election.columns == REFERENCE_CONTENDERS


def test_coalition_columns_and_independent_candidacies_are_told_apart_from_parties(reference):
    header, _ = reference
    kinds = Counter(c.tipo for c in header.election.contenders)
    assert kinds == {
        TipoContendiente.PARTIDO: 10,
        TipoContendiente.COALICION: 8,
        TipoContendiente.CANDIDATURA_INDEPENDIENTE: 3,
    }
    assert {c.clave for c in header.election.contenders if not c.has_representatives} == {
        c for c in REFERENCE_CONTENDERS if c.startswith("C_")
    }


def test_the_election_name_and_corte_line_are_read(reference):
    header, _ = reference
    assert header.election.nombre == "DIPUTACIONES LOCALES"
    assert header.corte == "2019/06/03 05:47 (UTC-5)"
    assert header.delimiter == "|"


def test_the_summary_is_read_as_published(reference):
    header, _ = reference
    assert dict(header.summary) == {
        "ACTAS_ESPERADAS": "2136",
        "ACTAS_REGISTRADAS": "2136",
        "ACTAS_FUERA_CATALOGO": "0",
        "ACTAS_CAPTURADAS": "2136",
        "PORCENTAJE_ACTAS_CAPTURADAS": "100.0000",
        "ACTAS_CONTABILIZADAS": "2031",
        "PORCENTAJE_ACTAS_CONTABILIZADAS": "95.0842",
        "PORCENTAJE_ACTAS_INCONSISTENCIAS": "23.0337",
        "ACTAS_NO_CONTABILIZADAS": "105",
        "LISTA_NOMINAL_ACTAS_CONTABILIZADAS": "1187254",
        "TOTAL_VOTOS_C_CS": "263005",
        "TOTAL_VOTOS_S_CS": "262598",
        "PORCENTAJE_PARTICIPACION_CIUDADANA": "22.1523",
    }


def test_the_first_acta_is_read_cell_by_cell(reference):
    _, rows = reference
    first = rows[0]
    dash = Marca.NO_APLICA
    assert first.acta == ActaRecord(
        casilla=Casilla(23, "QUINTANA ROO", 1, "DISTRITO 1", 85, "B", 1, 0, 1, None, ""),
        tipo_acta="2",
        control=(426, 71, 6, 77),
        votos=(7, 7, 2, 18, 2, 3, 25, 4, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, dash, dash, dash),
        no_registrados=0,
        nulos=4,
        total_votos_asentado=77,
        lista_nominal=483,
        representantes_pp_ci=6,
        mecanismo_traslado="F",
        sha="0973081e80ff64899e05a43f078c5f2d104b5458ff04560cd608ec120d9c9014",
        fecha_hora_acopio="2019-06-03 02:45:00",
        fecha_hora_captura="2019-06-03 02:56:32",
        fecha_hora_verificacion="2019-06-03 03:07:10",
        origen="CATD",
        digitalizacion="ESCANER",
        tipo_documento="ACTA PREP",
    )
    assert (first.clave_casilla, first.clave_acta) == ("230085B0100", "230085B010002")
    assert (first.total_votos_calculado, first.contabilizada, first.observaciones) == (
        "77",
        "1",
        "",
    )


def test_every_row_keeps_what_the_file_claims_about_it(reference):
    _, rows = reference
    published = reference_rows()
    assert [
        (r.clave_acta, r.total_votos_calculado, r.contabilizada, r.observaciones) for r in rows
    ] == [
        (p["CLAVE_ACTA"], p["TOTAL_VOTOS_CALCULADO"], p["CONTABILIZADA"], p["OBSERVACIONES"])
        for p in published
    ]
    assert [r.acta.clave_acta for r in rows] == [p["CLAVE_ACTA"] for p in published]


def test_ilegible_and_sin_dato_cells_are_read_as_marks(reference):
    _, rows = reference
    published = reference_rows()
    for row, cells in zip(rows, published, strict=True):
        for clave, value in zip(REFERENCE_CONTENDERS, row.acta.votos, strict=True):
            cell = cells[clave]
            assert value == (int(cell) if cell.isdigit() else Marca(cell))


def test_sin_acta_reasons_are_read_from_observaciones(reference):
    _, rows = reference
    assert Counter(r.acta.sin_acta for r in rows if r.acta.sin_acta) == {
        MotivoSinActa.PAQUETE_SIN_SOBRE: 49,
        MotivoSinActa.PAQUETE_NO_ENTREGADO: 26,
    }


def test_its_eleven_casillas_especiales_have_their_own_tipo_acta(reference):
    _, rows = reference
    especiales = [r.acta for r in rows if r.acta.casilla.especial]
    assert len(especiales) == 11
    assert {a.tipo_acta for a in especiales} == {"3"}
    assert {a.lista_nominal for a in especiales} == {0}


def test_no_acta_of_the_reference_file_is_fuera_de_catalogo(reference):
    _, rows = reference
    assert not any(r.acta.fuera_catalogo for r in rows)


# -- writing -----------------------------------------------------------------------


def test_writing_the_reference_actas_reproduces_the_file_byte_for_byte(reference):
    header, rows = reference
    out = io.StringIO()
    count = write_prepdb(
        out,
        election=header.election,
        corte=header.corte,
        summary=header.summary,
        rows=decided((r.acta for r in rows), election=header.election),
        settings=RuleSettings(),
    )
    assert count == 2136
    assert out.getvalue().encode("utf-8") == REFERENCE.read_bytes()


CONTENDER_POOL = (
    "PAN",
    "PRI",
    "PRD",
    "PVEM",
    "PT",
    "MC",
    "MORENA",
    "C_PAN_PRD",
    "PVEM_PT",
    "CC_PT_MORENA",
    "CAND_IND_1",
    "CAND_IND_2",
)
TEXT = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZÁÉÍÓÚÑ0123456789 .", max_size=12)
FIELD = st.one_of(st.integers(0, 5000), st.sampled_from(list(Marca)))
TIMESTAMP = st.one_of(
    st.just(""),
    st.datetimes(min_value=datetime(2019, 6, 2), max_value=datetime(2019, 6, 4)).map(
        lambda d: d.strftime(TIMESTAMP_FORMAT)
    ),
)


@st.composite
def elections(draw):
    chosen = draw(st.sets(st.sampled_from(CONTENDER_POOL), min_size=1, max_size=8))
    nombre = draw(st.sampled_from(["DIPUTACIONES LOCALES", "GUBERNATURA", "AYUNTAMIENTOS"]))
    return make_election([c for c in CONTENDER_POOL if c in chosen], nombre=nombre)


@st.composite
def actas(draw, election):
    casilla = make_casilla(
        tipo=draw(st.sampled_from("BCESVM")),
        seccion=draw(st.integers(1, 9999)),
        id_casilla=draw(st.integers(1, 99)),
        ext_contigua=draw(st.integers(0, 99)),
        id_entidad=draw(st.integers(1, 32)),
        entidad=draw(TEXT),
        id_distrito=draw(st.integers(0, 40)),
        distrito=draw(TEXT),
        ubicacion=draw(st.sampled_from([1, 2])),
    )
    fuera = draw(st.integers(0, 7)) == 0
    provenance = {
        "mecanismo_traslado": draw(st.sampled_from(["", "D", "F", "I"])),
        "sha": draw(st.one_of(st.just(""), st.binary(min_size=32, max_size=32).map(bytes.hex))),
        "fecha_hora_acopio": draw(TIMESTAMP),
        "fecha_hora_captura": draw(TIMESTAMP),
        "fecha_hora_verificacion": draw(TIMESTAMP),
        "origen": draw(st.sampled_from(["", "CASILLA", "CATD"])),
        "digitalizacion": draw(st.sampled_from(["", "MOVIL", "ESCANER", "URNA"])),
        "tipo_documento": draw(st.sampled_from(["", "ACTA PREP", "RPP", "CC"])),
    }
    if fuera:
        # Read from the sheet: its key and no tipo de acta the catalog knows.
        provenance["clave_acta_capturada"] = draw(
            st.text(alphabet="0123456789BCES", min_size=1, max_size=13)
        )
    return make_acta(
        election=election,
        casilla=casilla,
        tipo_acta="" if fuera else draw(st.sampled_from(["2", "3", "1"])),
        votes={c: draw(FIELD) for c in election.columns},
        no_registrados=draw(FIELD),
        nulos=draw(FIELD),
        control=tuple(draw(FIELD) for _ in range(4)),
        total_votos_asentado=draw(FIELD),
        lista_nominal=draw(st.integers(0, 3000)),
        representantes=draw(st.integers(0, 30)),
        sin_acta=None if fuera else draw(st.one_of(st.none(), st.sampled_from(MotivoSinActa))),
        fuera_catalogo=fuera,
        **provenance,
    )


@st.composite
def databases(draw):
    election = draw(elections())
    records = draw(st.lists(actas(election), max_size=12, unique_by=lambda a: a.clave_acta))
    labels = draw(st.sampled_from(sorted(LABEL_TABLES)))
    return election, records, RuleSettings(labels=LABEL_TABLES[labels])


def written(election, records, *, settings, corte="2019/06/03 05:47 (UTC-5)", summary=None):
    rows = decided(records, election=election, settings=settings)
    if summary is None:
        totals = Summary(actas_esperadas=len(records))
        for acta, decision in rows:
            totals.add(acta, decision)
        summary = totals.fields(participacion=settings.participacion)
    out = io.StringIO()
    write_prepdb(out, election=election, corte=corte, summary=summary, rows=rows, settings=settings)
    return out.getvalue().encode("utf-8")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(database=databases())
def test_write_read_write_is_byte_stable(tmp_path, database):
    election, records, rule_settings = database
    first = written(election, records, settings=rule_settings)
    header, rows = read(write_file(tmp_path, "roundtrip.csv", first), rule_settings)

    assert header.election == election
    assert [row.acta for row in rows] == records
    second = written(
        header.election,
        [row.acta for row in rows],
        settings=rule_settings,
        corte=header.corte,
        summary=header.summary,
    )
    assert second == first


def test_an_acta_fuera_de_catalogo_is_written_with_dashes_and_read_back_apart(tmp_path):
    election = make_election()
    fuera = make_acta(
        votes={"PAN": 10},
        lista_nominal=300,
        tipo_acta="",
        fuera_catalogo=True,
        clave_acta_capturada="239999B010002",
    )
    data = written(election, [fuera], settings=RuleSettings())
    line = data.decode().split("\n")[FIRST_ROW_LINE - 1].split("|")
    assert (line[0], line[1], line[11]) == ("-", "239999B010002", "-")

    _, rows = read(write_file(tmp_path, "fuera.csv", data))
    assert rows[0].acta.fuera_catalogo
    assert rows[0].clave_acta == "239999B010002"


# -- published variants ------------------------------------------------------------

VARIANT_ROWS = 60


@pytest.fixture(scope="module")
def reference_head():
    """The reference layout of the rows the variants are converted from."""
    return read(REFERENCE)[1][:VARIANT_ROWS]


def assert_same_actas(rows, expected, *, fuera=()):
    assert len(rows) == len(expected)
    for position, (row, original) in enumerate(zip(rows, expected, strict=True)):
        assert row.line == original.line
        if position in fuera:
            assert row.acta.fuera_catalogo
            assert row.clave_acta == original.clave_acta
            assert row.acta.clave_acta == original.clave_acta
        else:
            assert row.acta == original.acta
            assert row.clave_casilla == original.clave_casilla
            assert row.total_votos_calculado == original.total_votos_calculado


def test_an_ine_2021_file_reads_like_the_reference_layout(tmp_path, reference_head):
    path = write_file(tmp_path, "ine2021.csv", ine_2021(VARIANT_ROWS))
    header, rows = read(path)
    assert header.election.columns == REFERENCE_CONTENDERS
    assert list(header.summary) == list(SUMMARY_FIELDS)
    assert header.summary["ACTAS_FUERA_CATALOGO"] == "0"
    assert header.summary["PORCENTAJE_ACTAS_INCONSISTENCIAS"] == "23.0337"
    assert "COTEJADA" in header.columns
    assert_same_actas(rows, reference_head)


def test_an_ine_2021_acta_fuera_de_catalogo_has_dashes_for_clave_casilla_and_tipo_acta(
    tmp_path, reference_head
):
    # The first row is the one fuera de catálogo: the reader meets its numbers first.
    path = write_file(tmp_path, "ine2021.csv", ine_2021(VARIANT_ROWS, fuera=(0, 7)))
    _, rows = read(path)
    assert_same_actas(rows, reference_head, fuera=(0, 7))
    assert rows[0].acta.tipo_acta == ""
    assert rows[0].acta.casilla.seccion == reference_head[0].acta.casilla.seccion


def test_an_ine_2024_file_reads_like_the_reference_layout(tmp_path, reference_head):
    data = ine_2024(VARIANT_ROWS)
    assert data.startswith(b"\xef\xbb\xbf") and not data[3:].startswith(b'"sep=')
    header, rows = read(write_file(tmp_path, "ine2024.csv", data))
    assert header.delimiter == ","
    assert header.election.nombre == "DIPUTACIONES LOCALES"
    assert header.corte == "2019/06/03 05:47 (UTC-5)"
    assert header.election.columns == REFERENCE_CONTENDERS
    assert header.summary["ACTAS_CONTABILIZADAS"] == "2031"
    assert_same_actas([r._replace(line=r.line + 1) for r in rows], reference_head)


def test_an_ine_2024_acta_fuera_de_catalogo_is_marked_with_contabilizada_2(
    tmp_path, reference_head
):
    data = ine_2024(VARIANT_ROWS, fuera=(0, 3))
    _, rows = read(write_file(tmp_path, "ine2024.csv", data))
    assert_same_actas([r._replace(line=r.line + 1) for r in rows], reference_head, fuera=(0, 3))
    assert rows[3].clave_casilla == reference_head[3].clave_casilla  # the ' is not part of it
    assert rows[3].contabilizada == "2"


def test_a_pipe_file_without_a_sep_line_reads_like_the_reference(tmp_path, reference_head):
    _, rows = read(write_file(tmp_path, "nosep.csv", pipes_without_sep(VARIANT_ROWS)))
    assert_same_actas([r._replace(line=r.line + 1) for r in rows], reference_head)


def test_a_file_saved_with_windows_line_ends_reads_like_the_reference(tmp_path, reference_head):
    data = join(head(VARIANT_ROWS)).replace(b"\n", b"\r\n")
    header, rows = read(write_file(tmp_path, "crlf.csv", data))
    assert header.corte == "2019/06/03 05:47 (UTC-5)"
    assert_same_actas(rows, reference_head)


def test_a_quoted_field_spanning_two_lines_keeps_later_line_numbers_physical(tmp_path):
    lines = head(10)
    cells = lines[FIRST_ROW_LINE - 1].split("|")
    cells[-1] = '"ACTA\nPREP"'
    lines[FIRST_ROW_LINE - 1] = "|".join(cells)
    # The fifth row now starts on physical line 12: the first row took two lines.
    data = join(lines)
    bad = with_cells({12: {"PAN": "x"}}, lines=data.decode().split("\n"))
    _, rows = read(write_file(tmp_path, "quoted.csv", data))
    assert rows[0].acta.tipo_documento == "ACTA\nPREP"
    assert [r.line for r in rows[1:3]] == [10, 11]

    with pytest.raises(PrepDbError) as error:
        read(write_file(tmp_path, "quoted_bad.csv", bad))
    assert "línea 12," in error.value.text


@pytest.mark.parametrize(
    "marker",
    [{"CLAVE_CASILLA": "-"}, {"CONTABILIZADA": "2"}],
    ids=["clave_casilla_dash", "contabilizada_2"],
)
@pytest.mark.parametrize("position", [0, 2], ids=["first_row", "later_row"])
def test_an_acta_fuera_de_catalogo_is_read_even_when_its_identity_is_not_numeric(
    tmp_path, marker, position
):
    line = FIRST_ROW_LINE + position
    # SECCION and ID_CASILLA as the sheet showed them: nothing the catalog can match.
    data = with_cells({line: {**marker, "SECCION": "S/N", "ID_CASILLA": "?"}}, lines=head(3))
    _, rows = read(write_file(tmp_path, "fuera.csv", data))
    assert [r.acta.fuera_catalogo for r in rows] == [i == position for i in range(3)]


def test_a_file_with_more_distinct_numbers_than_any_real_one_is_still_read(tmp_path):
    election = make_election(CONTENDER_POOL[:10])
    width = 20  # numbers per row, each different from every other in the file

    def number(n: int, i: int) -> int:
        return width * n + i

    records = [
        make_acta(
            election=election,
            casilla=make_casilla(seccion=1 + n // 99, id_casilla=1 + n % 99),
            votes={c: number(n, i) for i, c in enumerate(election.columns)},
            no_registrados=number(n, 10),
            nulos=number(n, 11),
            total_votos_asentado=number(n, 12),
            lista_nominal=number(n, 13),
            representantes=number(n, 14),
            control=tuple(number(n, i) for i in range(15, 19)),
        )
        for n in range(12_000)
    ]
    assert len({number(n, i) for n in range(12_000) for i in range(19)}) > 200_000
    data = written(election, records, settings=RuleSettings())
    _, rows = read(write_file(tmp_path, "distinct.csv", data))
    assert len(rows) == len(records)
    assert [row.acta for row in rows[-3:]] == records[-3:]


# -- broken files ------------------------------------------------------------------


@pytest.mark.parametrize("bad", BAD_FILES, ids=lambda b: b.id)
def test_a_broken_file_is_refused_naming_file_line_and_column_in_spanish(tmp_path, bad: BadFile):
    path = write_file(tmp_path, bad.filename, bad.build())
    with pytest.raises(PrepDbError) as error:
        read(path)
    text = error.value.text
    assert bad.filename in text
    assert re.search(rf"\blínea {bad.line}\b", text), text
    if bad.column:
        assert f"columna {bad.column}" in text
    assert reads_as_spanish(text), text


def test_a_missing_file_is_refused_naming_it(tmp_path):
    with pytest.raises(PrepDbError) as error:
        read(tmp_path / "no_existe.csv")
    assert "no_existe.csv" in error.value.text


def test_a_line_just_within_the_limit_is_read(tmp_path):
    lines = head(2)
    row = lines[FIRST_ROW_LINE - 1]
    # TIPO_DOCUMENTO is the last cell: pad it so the line, with its \n, is the limit.
    lines[FIRST_ROW_LINE - 1] = row + "X" * (MAX_LINE_CHARS - len(row) - 1)
    _, rows = read(write_file(tmp_path, "long_ok.csv", join(lines)))
    assert len(rows[0].acta.tipo_documento) > MAX_LINE_CHARS // 2


@pytest.mark.parametrize(
    "filler",
    [b"9", b'"x', b"|"],
    ids=["digits", "an_open_quote", "delimiters"],
)
def test_a_50_mb_line_without_newline_is_refused_in_bounded_memory(tmp_path, filler):
    path = tmp_path / "huge.csv"
    size = 50 * 1024 * 1024
    with path.open("wb") as out:
        out.write(join(head(2)))
        block = (filler * (1024 * 1024 // len(filler) + 1))[: 1024 * 1024]
        for _ in range(size // len(block)):
            out.write(block)
    tracemalloc.start()
    try:
        with pytest.raises(PrepDbError) as error:
            read(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "línea 10" in error.value.text
    assert peak < 20 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"


@pytest.mark.parametrize(("column", "value"), [("LISTA_NOMINAL", ""), ("NULOS", ""), ("PAN", " 7")])
def test_a_row_is_judged_the_same_wherever_it_stands_in_the_file(tmp_path, column, value):
    lines = head(1)
    first = lines[FIRST_ROW_LINE - 1].split("|")
    odd = list(first)
    odd[column_index("CLAVE_ACTA")] = odd[column_index("CLAVE_ACTA")][:-2] + "99"
    odd[column_index(column)] = value
    verdicts = []
    for before in ([], [first]):  # first in the file, or after a row with the same numbers
        body = [*lines[: FIRST_ROW_LINE - 1], *("|".join(b) for b in before), "|".join(odd), ""]
        try:
            read(write_file(tmp_path, "order.csv", join(body)))
            verdicts.append("read")
        except PrepDbError:
            verdicts.append("refused")
    assert verdicts[0] == verdicts[1]


def test_write_refuses_a_value_that_holds_the_delimiter():
    election = make_election()
    acta = make_acta(origen="CATD|X")
    with pytest.raises(ValueError):
        write_prepdb(
            io.StringIO(),
            election=election,
            corte="2019/06/03 05:47 (UTC-5)",
            summary=dict.fromkeys(SUMMARY_FIELDS, "0"),
            rows=[(acta, contabilizar(acta, election=election, settings=RuleSettings()))],
            settings=RuleSettings(),
        )


def test_the_reference_lines_are_what_the_helpers_assume():
    lines = reference_lines()
    assert lines[0] == "sep=|"
    assert lines[FIRST_ROW_LINE - 2].startswith("CLAVE_CASILLA|")
    assert lines[-1] == ""
