"""On PostgreSQL the corte reads captured values from ``valores_lectura`` (migration
``intake/0005``): each must read exactly as ``valores ->> campo`` does."""

from __future__ import annotations

import polars as pl
import pytest
from django.db import connection
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTextTransform
from polars.testing import assert_frame_equal

from openprep.catalog.services import election_of
from openprep.core import tabla
from openprep.intake.models import Acta, Estado
from openprep.publish import lectura

pytestmark = pytest.mark.postgresql


@pytest.fixture(autouse=True)
def solo_postgresql(db):
    if connection.vendor != "postgresql":  # an ad-hoc run on SQLite: make deselects these
        pytest.skip("valores_lectura exists only on PostgreSQL")


def _actas(eleccion, valores: list[dict]) -> list[int]:
    return [
        Acta.objects.create(
            eleccion=eleccion, clave_acta=f"X{n}", estado=Estado.VERIFICADA, valores=v
        ).pk
        for n, v in enumerate(valores)
    ]


def _leidos(eleccion, names, monkeypatch):
    """What the corte reads (:func:`lectura._valores`) and what ``->>`` reads, by acta;
    and how many actas ``_valores`` read again through ``->>``."""
    actas = Acta.objects.filter(eleccion=eleccion)
    lecturas = lectura.frame(
        actas.values_list("id", RawSQL('"intake_acta"."valores_lectura"', ())),
        {"acta_id": pl.Int64(), "lectura": pl.String()},
    )
    again = []
    frame = lectura.frame

    def reads_again(query, schema):
        read = frame(query, schema)
        again.append(read.height)
        return read

    monkeypatch.setattr(lectura, "frame", reads_again)
    leidos = lectura._valores(lecturas, names=names, actas=actas).sort("acta_id")
    monkeypatch.undo()
    jsonb = lectura.frame(
        actas.values_list("id", *(KeyTextTransform(n, "valores") for n in names)),
        {"acta_id": pl.Int64(), **{f"v:{n}": pl.String() for n in names}},
    ).sort("acta_id")
    return leidos, jsonb, sum(again)


def test_captured_actas_are_read_from_their_text_alone(eleccion, monkeypatch):
    names = tabla.campos(election_of(eleccion))
    completa = {n: str(i) for i, n in enumerate(names)}
    fuera = {n: "7" for n in names if n != "CAND_IND_1"}  # a ballot without the column
    marcas = {**completa, "PAN": "ILEGIBLE", "PRI": "SIN DATO", "MORENA": ""}
    ids = _actas(eleccion, [completa, fuera, marcas, {}, fuera])

    leidos, jsonb, again = _leidos(eleccion, names, monkeypatch)

    assert_frame_equal(leidos, jsonb)
    assert leidos.get_column("acta_id").to_list() == sorted(ids)
    assert again == 0


def test_every_other_stored_text_reads_as_the_jsonb_lookup_does(eleccion, monkeypatch):
    """Texts capture never writes: JSON nulls, numbers, a «|», a newline, the null marker
    itself, keys off the election, a key outside ASCII, nested values, quotes."""
    names = tabla.campos(election_of(eleccion))
    base = {n: "1" for n in names}
    raras = [
        {**base, "PAN": None},
        {**base, "PAN": 15, "PRI": 1.50, "MORENA": True},
        {**base, "PAN": "1|2", "NULOS": None},  # one more field and one fewer
        {**base, "PAN": "1|2"},
        {**base, "PRI": "3\n4", "MORENA": "5\r"},
        {**base, "PAN": "\\N"},
        {**base, "OTRO": "9"},
        {"AÑO": "3", "PAN": "ñ", "PRI": 'comillas "x", y: z'},
        {**base, "PAN": {"a": [1, "b"]}, "PRI": [], "MORENA": ""},
        {"PAN": "2"},
    ]
    _actas(eleccion, [base, *raras])

    leidos, jsonb, again = _leidos(eleccion, names, monkeypatch)

    assert_frame_equal(leidos, jsonb)
    assert leidos.filter(pl.col("v:PAN") == "1|2").height == 2
    # Read again through ->>: the two with a JSON null, the one with a «|» alone and the
    # one holding the null marker as text; every other text is taken apart.
    assert again == 4


def test_the_text_follows_every_change_of_the_values(eleccion, monkeypatch):
    names = tabla.campos(election_of(eleccion))
    (pk,) = _actas(eleccion, [{n: "1" for n in names}])
    Acta.objects.filter(pk=pk).update(valores={n: "2" for n in names if n != "PAN"})

    leidos, jsonb, _ = _leidos(eleccion, names, monkeypatch)

    assert_frame_equal(leidos, jsonb)
    assert leidos.row(0, named=True)["v:PAN"] is None
    assert leidos.row(0, named=True)["v:PRI"] == "2"
