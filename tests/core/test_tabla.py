"""The columnar corte (:mod:`openprep.core.tabla`) decides, sums and writes as the rows do.

The row path is the reference: :func:`rules.contabilizar` per acta, :meth:`Summary.add`,
and :func:`prepdb_write.format_row` / :func:`prepdb_write.write_prepdb`. Each test builds
catalog actas as the core's records, turns them into the *cruda* frame the corte reads
from the database (:func:`cruda`: the stored texts, the ``no_aplica`` JSON, the motivo
and the published texts), and holds the columnar results to the row path's: the same
decisions, the same summary, the same bytes, and :func:`tabla.tabla_de_filas` gives the
frame :func:`tabla.decidir` does.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

import polars as pl
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from openprep.core import tabla
from openprep.core.model import ActaRecord, Election, FieldValue, Marca, MotivoSinActa
from openprep.core.prepdb_write import format_row, write_prepdb
from openprep.core.rules import (
    INE_LABELS,
    REFERENCE_LABELS,
    Decision,
    Observacion,
    Participacion,
    Representantes,
    RuleSettings,
    contabilizar,
)
from openprep.core.tally import Summary
from tests.core.builders import DEFAULT_CONTENDERS, make_acta, make_casilla, make_election

CORTE = "2027/06/06 20:00 (UTC-5)"
TEXTOS_DEL_ACTA = {
    "mecanismo": "mecanismo_traslado",
    "sha": "sha",
    "acopio": "fecha_hora_acopio",
    "captura": "fecha_hora_captura",
    "verificacion": "fecha_hora_verificacion",
    "origen": "origen",
    "digitalizacion": "digitalizacion",
    "tipo_documento": "tipo_documento",
}
"""Each text of :data:`tabla.TEXTOS` and the record's field it comes from."""
assert tuple(TEXTOS_DEL_ACTA) == tabla.TEXTOS
NO_APLICA_TEXT = "999"
"""What a column off the ballot holds by default in the cruda frame: it must be ignored."""


# -- the cruda frame -------------------------------------------------------------------


def _text(value: FieldValue) -> str:
    return value.value if isinstance(value, Marca) else str(value)


def cruda(
    actas: Sequence[ActaRecord],
    *,
    election: Election,
    stored: Sequence[Mapping[str, str | None]] | None = None,
    no_aplica: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Catalog actas as the *cruda* frame :func:`tabla.decidir` takes.

    A value is stored as ``str(number)`` or the mark's text; a ballot column holding
    ``-`` is listed in the acta's ``no_aplica`` JSON and stores :data:`NO_APLICA_TEXT`.
    ``stored``: per acta, texts that replace those defaults (``"007"`` for 7, None for a
    field never captured …); ``no_aplica``: per acta, the JSON text to store instead of
    the list of its ``-`` columns.
    """
    names = tabla.campos(election)
    boleta = set(election.columns)
    data: dict[str, list[object]] = {
        name: [] for name in (*tabla.CASILLA, "lista_nominal", "tipo_acta", "representantes")
    }
    data["no_aplica"] = []
    data |= {f"v:{name}": [] for name in names}
    data["motivo"] = []
    data |= {name: [] for name in tabla.TEXTOS}
    for i, acta in enumerate(actas):
        for field, value in zip(tabla.CASILLA, acta.casilla, strict=True):
            data[field].append(value)
        data["lista_nominal"].append(acta.lista_nominal)
        data["tipo_acta"].append(acta.tipo_acta)
        data["representantes"].append(acta.representantes_pp_ci)
        values = (*acta.control, *acta.votos, acta.no_registrados, acta.nulos)
        values = (*values, acta.total_votos_asentado)
        fuera = [n for n, v in zip(names, values, strict=True) if v is Marca.NO_APLICA]
        assert boleta.issuperset(fuera), "only a ballot column can be off the ballot"
        data["no_aplica"].append(json.dumps(fuera) if no_aplica is None else no_aplica[i])
        overrides = {} if stored is None else stored[i]
        for name, value in zip(names, values, strict=True):
            default = NO_APLICA_TEXT if value is Marca.NO_APLICA else _text(value)
            data[f"v:{name}"].append(overrides.get(name, default))
        data["motivo"].append(acta.sin_acta.value if acta.sin_acta else "")
        for name, field in TEXTOS_DEL_ACTA.items():
            data[name].append(getattr(acta, field))
    schema: dict[str, pl.DataType] = dict(tabla.CASILLA_SCHEMA)
    schema |= {"lista_nominal": pl.Int64(), "tipo_acta": pl.String()}
    schema |= {"representantes": pl.Int64(), "no_aplica": pl.String()}
    schema |= {f"v:{name}": pl.String() for name in names}
    schema |= {name: pl.String() for name in ("motivo", *tabla.TEXTOS)}
    return pl.DataFrame(data, schema=schema)


def decididas(
    actas: Sequence[ActaRecord], *, election: Election, settings: RuleSettings
) -> list[tuple[ActaRecord, Decision]]:
    return [(a, contabilizar(a, election=election, settings=settings)) for a in actas]


def escrito(
    rows: Sequence[tuple[ActaRecord, Decision]] = (),
    catalogo: Sequence[str] | pl.Series = (),
    *,
    election: Election,
    settings: RuleSettings,
) -> tuple[int, str]:
    """What write_prepdb writes (and its row count) for these rows or catalog lines."""
    out = io.StringIO()
    count = _write(out, rows, catalogo, election=election, settings=settings)
    return count, out.getvalue()


def escrito_en_archivo(
    rows: Sequence[tuple[ActaRecord, Decision]] = (),
    catalogo: Sequence[str] | pl.Series = (),
    *,
    election: Election,
    settings: RuleSettings,
) -> tuple[int, bytes]:
    """The same into a file, opened as the corte's writers open theirs (UTF-8, newline="");
    a text stream with a buffer takes the catalog's lines as bytes."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "PREP.csv"
        with open(path, "w", encoding="utf-8", newline="") as out:
            count = _write(out, rows, catalogo, election=election, settings=settings)
        return count, path.read_bytes()


def _write(
    out: IO[str],
    rows: Sequence[tuple[ActaRecord, Decision]],
    catalogo: Sequence[str] | pl.Series,
    *,
    election: Election,
    settings: RuleSettings,
) -> int:
    summary = Summary(actas_esperadas=7).fields(participacion=settings.participacion)
    return write_prepdb(
        out,
        election=election,
        corte=CORTE,
        summary=summary,
        rows=rows,
        settings=settings,
        catalogo=catalogo,
    )


def lineas_de(cells: pl.DataFrame) -> list[str]:
    """The rows :func:`tabla.celdas`' cells make, as the writer joins them."""
    text = cells.write_csv(
        include_header=False, separator="|", quote_style="never", line_terminator="\n"
    )
    return text.split("\n")[:-1]  # each row ends in \n (a \r inside a cell stays)


def error_of(call: Callable[[], object]) -> str:
    with pytest.raises(ValueError) as caught:
        call()
    return str(caught.value)


# -- random catalog actas --------------------------------------------------------------

MARCAS = (Marca.ILEGIBLE, Marca.SIN_DATO)
PROVENANCE = st.text(alphabet='ab 0:-<>&é/\t\r",;=', max_size=6)
"""Published texts: never the delimiter or a newline (tested apart)."""


@st.composite
def numeros(draw: st.DrawFn, top: int = 1000) -> tuple[FieldValue, str | None]:
    """A number up to ``top`` and a text storing it: ``"7"``, ``"007"``; 0 also as never
    captured."""
    n = draw(st.integers(0, top))
    texts: list[str | None] = [str(n), f"00{n}"]
    if n == 0:
        texts += ["", None]
    return n, draw(st.sampled_from(texts))


marcas = st.sampled_from(MARCAS).map(lambda m: (m, m.value))
fuera_de_boleta = st.tuples(
    st.just(Marca.NO_APLICA),
    st.one_of(st.none(), st.sampled_from(["", "0", "12", "0500", "ILEGIBLE", "SIN DATO"])),
)
"""A ballot column off the acta's ballot and whatever it stores: ignored."""


@st.composite
def actas_crudas(draw: st.DrawFn, election: Election) -> tuple[ActaRecord, dict, str]:
    """A catalog acta, the texts it is stored as, and its ``no_aplica`` JSON text."""
    casilla = make_casilla(
        tipo=draw(st.sampled_from("BBCES")),
        seccion=draw(st.integers(1, 40)),
        id_casilla=draw(st.integers(1, 3)),
        ext_contigua=draw(st.integers(0, 2)),
        id_distrito=draw(st.integers(1, 3)),
        id_municipio=draw(st.none() | st.integers(1, 3)),
        ubicacion=draw(st.integers(1, 2)),
    )
    # Per acta, how large its numbers run (EXCEDE_LISTA_NOMINAL fires on some) and
    # whether its vote fields are all ILEGIBLE / SIN DATO (or off the ballot).
    top = draw(st.sampled_from([12, 12, 150, 1000]))
    campos = st.one_of(numeros(top), numeros(top), numeros(top), marcas)
    votos_campos = marcas if draw(st.integers(0, 5)) == 0 else campos
    boleta = st.one_of(votos_campos, votos_campos, fuera_de_boleta)
    control = [draw(campos) for _ in range(4)]
    votos = [draw(boleta) for _ in election.columns]
    no_registrados, nulos, asentado = draw(votos_campos), draw(votos_campos), draw(campos)
    acta = make_acta(
        election=election,
        casilla=casilla,
        tipo_acta=draw(st.sampled_from(["2", "3", "10", "6E"])),
        control=tuple(v for v, _ in control),
        votes={c: v for c, (v, _) in zip(election.columns, votos, strict=True)},
        no_registrados=no_registrados[0],
        nulos=nulos[0],
        total_votos_asentado=asentado[0],
        lista_nominal=draw(st.integers(0, 800)),
        representantes=draw(st.integers(0, 20)),
        sin_acta=draw(st.one_of(st.none(), st.none(), st.sampled_from(MotivoSinActa))),
        **{field: draw(PROVENANCE) for field in TEXTOS_DEL_ACTA.values()},
    )
    pairs = [*control, *votos, no_registrados, nulos, asentado]
    stored = dict(zip(tabla.campos(election), (t for _, t in pairs), strict=True))
    # The JSON as stored: the '-' columns in any order, maybe with names the ballot lacks
    # (ignored by both paths), spaced or compact.
    fuera = [c for c, v in zip(election.columns, acta.votos, strict=True) if v is Marca.NO_APLICA]
    extra = draw(st.lists(st.sampled_from(["CAND_IND_9", "NULOS", "TOTAL_VOTOS_ASENTADO"])))
    listed = draw(st.permutations([*fuera, *dict.fromkeys(extra)]))
    compact = draw(st.booleans())
    texto = json.dumps(listed, separators=(",", ":") if compact else None)
    return acta, stored, texto


elections = st.lists(st.sampled_from(DEFAULT_CONTENDERS), unique=True).map(
    lambda cs: make_election(sorted(cs, key=DEFAULT_CONTENDERS.index))
)
"""Ballots of 0 to 5 contenders (parties, a coalition, an independent)."""
rule_settings = st.builds(
    RuleSettings,
    representantes=st.sampled_from(Representantes),
    boletas_especial=st.sampled_from([0, 100, 750]),
    participacion=st.sampled_from(Participacion),
    labels=st.sampled_from([REFERENCE_LABELS, INE_LABELS]),
)


@st.composite
def cortes(draw: st.DrawFn) -> tuple[Election, RuleSettings, list, pl.DataFrame]:
    """An election, its rule settings, decided catalog actas and their cruda frame."""
    election = draw(elections)
    settings = draw(rule_settings)
    drawn = draw(st.lists(actas_crudas(election), max_size=12))
    actas = [a for a, _, _ in drawn]
    frame = cruda(
        actas,
        election=election,
        stored=[s for _, s, _ in drawn],
        no_aplica=[n for _, _, n in drawn],
    )
    return election, settings, decididas(actas, election=election, settings=settings), frame


CORTES = hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


# -- properties ------------------------------------------------------------------------


@CORTES
@given(corte=cortes())
def test_decidir_decides_each_acta_as_contabilizar(corte):
    election, settings, rows, frame = corte
    decided = tabla.decidir(frame, election=election, settings=settings)
    assert decided.height == len(rows)
    found = [
        (tabla.observacion_de(code), contabilizada, total)
        for code, contabilizada, total in decided.select(
            "observacion", "contabilizada", "total"
        ).iter_rows()
    ]
    assert found == [(d.observacion, d.contabilizada, d.total_votos_calculado) for _, d in rows]


@CORTES
@given(corte=cortes())
def test_resumen_sums_as_summary_add(corte):
    election, settings, rows, frame = corte
    decided = tabla.decidir(frame, election=election, settings=settings)
    # Both start from the same summary, holding an acta fuera de catálogo already.
    fuera = make_acta(election=election, fuera_catalogo=True, clave_acta_capturada="X")
    fuera_decision = contabilizar(fuera, election=election, settings=settings)
    expected = Summary(actas_esperadas=len(rows) + 3)
    found = Summary(actas_esperadas=len(rows) + 3)
    for summary in (expected, found):
        summary.add(fuera, fuera_decision)
    for acta, decision in rows:
        expected.add(acta, decision)
    tabla.resumen(decided, summary=found)
    assert found == expected
    participacion = settings.participacion
    assert found.fields(participacion=participacion) == expected.fields(participacion=participacion)


@CORTES
@given(corte=cortes())
def test_celdas_are_format_rows_and_write_the_same_bytes(corte):
    election, settings, rows, frame = corte
    decided = tabla.decidir(frame, election=election, settings=settings)
    lineas = tabla.celdas(decided, election=election, settings=settings)
    texto = lineas_de(lineas)
    assert texto == ["|".join(format_row(a, d, settings=settings)) for a, d in rows]
    by_rows = escrito(rows, election=election, settings=settings)
    assert escrito(catalogo=lineas, election=election, settings=settings) == by_rows
    assert escrito(catalogo=texto, election=election, settings=settings) == by_rows
    en_archivo = escrito_en_archivo(rows, election=election, settings=settings)
    assert en_archivo[1] == by_rows[1].encode()
    assert escrito_en_archivo(catalogo=lineas, election=election, settings=settings) == en_archivo


@CORTES
@given(corte=cortes())
def test_tabla_de_filas_is_decidirs_frame(corte):
    election, settings, rows, frame = corte
    decided = tabla.decidir(frame, election=election, settings=settings)
    from_rows = tabla.tabla_de_filas(rows, election=election)
    assert_frame_equal(decided.select(from_rows.columns), from_rows)


# -- cases -----------------------------------------------------------------------------

ELECTION = make_election()
SETTINGS = RuleSettings()


def test_no_actas():
    empty = tabla.decidir(cruda([], election=ELECTION), election=ELECTION, settings=SETTINGS)
    assert empty.height == 0
    summary = Summary(actas_esperadas=4)
    tabla.resumen(empty, summary=summary)
    assert summary == Summary(actas_esperadas=4)
    lineas = tabla.celdas(empty, election=ELECTION, settings=SETTINGS)
    assert lineas_de(lineas) == []
    assert escrito(catalogo=lineas, election=ELECTION, settings=SETTINGS) == escrito(
        election=ELECTION, settings=SETTINGS
    )
    assert_frame_equal(
        empty.select(tabla.tabla_de_filas([], election=ELECTION).columns),
        tabla.tabla_de_filas([], election=ELECTION),
    )


def test_stored_texts_are_read_as_the_row_path_reads_them():
    """Leading zeros, never captured (null or empty), marks: the cell is the number."""
    acta = make_acta(votes={"PAN": 7, "PRI": Marca.SIN_DATO}, nulos=Marca.ILEGIBLE)
    stored = {"PAN": "007", "PRI": "SIN DATO", "MORENA": None, "C_PAN_PRI": "", "NULOS": "ILEGIBLE"}
    frame = cruda([acta], election=ELECTION, stored=[stored])
    decided = tabla.decidir(frame, election=ELECTION, settings=SETTINGS)
    row = decided.row(0, named=True)
    assert (row["c:PAN"], row["n:PAN"]) == ("7", 7)
    assert (row["c:PRI"], row["n:PRI"]) == ("SIN DATO", None)
    assert (row["c:MORENA"], row["n:MORENA"]) == ("0", 0)
    assert (row["c:C_PAN_PRI"], row["n:C_PAN_PRI"]) == ("0", 0)
    decision = contabilizar(acta, election=ELECTION, settings=SETTINGS)
    assert lineas_de(tabla.celdas(decided, election=ELECTION, settings=SETTINGS)) == [
        "|".join(format_row(acta, decision, settings=SETTINGS))
    ]


def test_a_text_the_row_path_cannot_read_is_refused_as_it_refuses_it():
    acta = make_acta(votes={"PAN": 12})
    frame = cruda([acta], election=ELECTION, stored=[{"PAN": "12a"}])
    expected = error_of(lambda: tabla.field_value("12a"))
    assert "12a" in expected
    assert error_of(lambda: tabla.decidir(frame, election=ELECTION, settings=SETTINGS)) == expected


def test_a_number_past_64_bits_is_refused_not_read_as_zero():
    """Capture stores at most 9,999; a larger stored number must not become a null."""
    acta = make_acta(votes={"PAN": 12})
    frame = cruda([acta], election=ELECTION, stored=[{"PAN": str(10**19)}])
    with pytest.raises(ValueError, match="out of range"):
        tabla.decidir(frame, election=ELECTION, settings=SETTINGS)


def test_an_unknown_motivo_is_refused():
    frame = cruda([make_acta()], election=ELECTION).with_columns(motivo=pl.lit("OTRO"))
    with pytest.raises(ValueError, match="OTRO"):
        tabla.decidir(frame, election=ELECTION, settings=SETTINGS)
    with pytest.raises(ValueError, match="OTRO"):
        MotivoSinActa("OTRO")


@pytest.mark.parametrize(
    "changes",
    [
        {"origen": "CA|TD"},
        {"fecha_hora_acopio": "2027-06-06\n20:00:00"},
        {"sha": "|"},
        {"tipo_documento": "ACTA\n"},
        {"casilla": make_casilla(seccion=2, distrito="DISTRITO|1")},
        {"casilla": make_casilla(seccion=2, entidad="QUINTANA\nROO")},
        {"tipo_acta": "2|"},
    ],
    ids=["origen", "acopio", "sha", "tipo_documento", "distrito", "entidad", "tipo_acta"],
)
def test_a_text_with_the_delimiter_or_a_newline_is_refused_naming_its_acta(changes):
    """As write_prepdb refuses it: the first such acta, by its CLAVE_ACTA."""
    good = make_acta(casilla=make_casilla(seccion=1), origen="CATD")
    bad = make_acta(casilla=make_casilla(seccion=2), origen="CATD")._replace(**changes)
    worse = make_acta(casilla=make_casilla(seccion=3), origen="|")
    actas = [good, bad, worse]
    rows = decididas(actas, election=ELECTION, settings=SETTINGS)
    expected = error_of(lambda: escrito(rows, election=ELECTION, settings=SETTINGS))
    assert expected.startswith(bad.clave_acta + ":")
    decided = tabla.decidir(cruda(actas, election=ELECTION), election=ELECTION, settings=SETTINGS)
    from_rows = tabla.tabla_de_filas(rows, election=ELECTION)
    for frame in (decided, from_rows):
        assert error_of(lambda f=frame: tabla.celdas(f, election=ELECTION, settings=SETTINGS)) == (
            expected
        )


def test_more_rows_than_a_written_block():
    """write_prepdb writes lines in blocks of 10 000 (a polars column at once, as bytes
    into a file's buffer): the bytes still match."""
    actas = [
        make_acta(
            casilla=make_casilla(seccion=1 + i // 7, id_casilla=1 + i % 7),
            votes={"PAN": i % 300, "MORENA": Marca.ILEGIBLE if i % 11 == 0 else i % 50},
            lista_nominal=400,
            sha=f"{i:064x}",
        )
        for i in range(10_003)
    ]
    rows = decididas(actas, election=ELECTION, settings=SETTINGS)
    decided = tabla.decidir(cruda(actas, election=ELECTION), election=ELECTION, settings=SETTINGS)
    lineas = tabla.celdas(decided, election=ELECTION, settings=SETTINGS)
    assert escrito(catalogo=lineas, election=ELECTION, settings=SETTINGS) == escrito(
        rows, election=ELECTION, settings=SETTINGS
    )
    assert escrito_en_archivo(catalogo=lineas, election=ELECTION, settings=SETTINGS) == (
        escrito_en_archivo(rows, election=ELECTION, settings=SETTINGS)
    )


def test_observation_codes_round_trip():
    assert tabla.observacion_de(None) is None
    assert tabla.codigo(None) is None
    for observacion in tabla.OBSERVACIONES:
        assert tabla.observacion_de(tabla.codigo(observacion)) is observacion


@pytest.mark.parametrize("representantes", list(Representantes))
def test_the_limit_of_the_lista_nominal(representantes):
    """At, just above and past the allowance, with columns off the ballot and especiales."""
    settings = RuleSettings(representantes=representantes, boletas_especial=30)
    especial = make_casilla(tipo="S", seccion=9)
    actas = [
        make_acta(votes={"PAN": votos}, lista_nominal=100, representantes=3, casilla=casilla)
        for casilla in (make_casilla(seccion=8), especial)
        for votos in (29, 30, 31, 33, 34, 38, 39, 100, 101, 103, 104, 108, 109)
    ]
    actas += [
        make_acta(
            votes={"PAN": votos, "CAND_IND_1": Marca.NO_APLICA, "PRI": Marca.NO_APLICA},
            lista_nominal=100,
            representantes=3,
        )
        for votos in (103, 104, 105)
    ]
    rows = decididas(actas, election=ELECTION, settings=settings)
    decided = tabla.decidir(cruda(actas, election=ELECTION), election=ELECTION, settings=settings)
    found = decided.select("observacion", "contabilizada", "total").rows()
    assert found == [
        (tabla.codigo(d.observacion), d.contabilizada, d.total_votos_calculado) for _, d in rows
    ]
    assert {d.observacion for _, d in rows} >= {None, Observacion.EXCEDE_LISTA_NOMINAL}
