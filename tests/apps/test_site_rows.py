"""The site's acta rows: the precompiled formatter writes exactly :func:`fila_acta`'s bytes.

A national corte writes half a million acta rows, so the site formats them with a
template compiled once per election (:class:`site_html.FilasActa`); these acta shapes
(marks, observations, no image, texts that need escaping, fuera de catálogo, a record
off the ballot's width, an empty ballot) are where it could drift from the definition.
"""

from __future__ import annotations

import pytest

from openprep.core.model import Marca, MotivoSinActa
from openprep.core.rules import INE_LABELS, REFERENCE_LABELS, RuleSettings, contabilizar
from openprep.publish.site_html import FilasActa, fila_acta
from tests.core.builders import make_acta, make_casilla, make_election

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
    make_acta(sin_acta=MotivoSinActa.CASILLA_NO_INSTALADA),
    make_acta(casilla=make_casilla(tipo="S", seccion=1234, id_casilla=12, ext_contigua=3)),
    make_acta(casilla=make_casilla(tipo="<b>&"), sha=SHA, **STAMPS),
    make_acta(sha=SHA, fecha_hora_captura="2027-06-06 <script>", fecha_hora_acopio="a&b"),
    make_acta(fuera_catalogo=True, clave_acta_capturada="23<0085B0100", sha=SHA),
]


@pytest.mark.parametrize("labels", [REFERENCE_LABELS, INE_LABELS], ids=["referencia", "ine"])
@pytest.mark.parametrize("imagenes", ["../../../imagenes/", "img%20/"])
def test_each_row_is_fila_actas_bytes(labels, imagenes):
    filas = FilasActa(width=len(ELECTION.contenders), labels=labels, imagenes=imagenes)
    settings = RuleSettings(labels=labels)
    for acta in ACTAS:
        decision = contabilizar(acta, election=ELECTION, settings=settings)
        assert filas(acta, decision) == fila_acta(acta, decision, labels=labels, imagenes=imagenes)


def test_texts_from_data_stay_escaped():
    filas = FilasActa(width=len(ELECTION.contenders), labels=REFERENCE_LABELS, imagenes="i/")
    acta = ACTAS[6]
    row = filas(acta, contabilizar(acta, election=ELECTION, settings=RuleSettings()))
    assert "<b>" not in row
    assert "&lt;b&gt;&amp;" in row


def test_a_record_off_the_ballots_width_and_an_empty_ballot_are_fila_actas_too():
    acta = make_acta(votes={"PAN": 3}, lista_nominal=100, sha=SHA)
    decision = contabilizar(acta, election=ELECTION, settings=RuleSettings())
    short = acta._replace(votos=acta.votos[:-1])
    filas = FilasActa(width=len(ELECTION.contenders), labels=REFERENCE_LABELS, imagenes="i/")
    assert filas(short, decision) == fila_acta(
        short, decision, labels=REFERENCE_LABELS, imagenes="i/"
    )
    empty = acta._replace(votos=())
    vacia = FilasActa(width=0, labels=REFERENCE_LABELS, imagenes="i/")
    assert vacia(empty, decision) == fila_acta(
        empty, decision, labels=REFERENCE_LABELS, imagenes="i/"
    )
