"""The services the operators' screens call: acopio, digitalización, captura, verificación."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from io import StringIO

import pytest

from openprep.capture.models import Captura
from openprep.capture.services import CaptureError, campos_del_acta, capturar, verificar
from openprep.core.model import MotivoSinActa
from openprep.core.rules import RuleSettings
from openprep.intake.models import Acta, Estado, EventoActa, Imagen
from openprep.intake.services import (
    IntakeError,
    digitalizar,
    registrar_acopio,
    registrar_sin_acta,
)
from openprep.publish.corte import write_corte_database

pytestmark = pytest.mark.django_db

NIGHT = datetime(2019, 6, 2, 20, 0, tzinfo=timezone(timedelta(hours=-5)))
CLAVE = "230100B010002"
IMAGE = b"\x89PNG fake acta image bytes for hashing"


def values(**overrides: str) -> dict[str, str]:
    base = {
        "TOTAL_BOLETAS_SOBRANTES": "300",
        "TOTAL_PERSONAS_VOTARON": "200",
        "TOTAL_REP_PARTIDO_CI_VOTARON": "4",
        "TOTAL_VOTOS_SACADOS": "200",
        "PAN": "50",
        "PRI": "40",
        "MORENA": "90",
        "C_PAN_PRI": "5",
        "CAND_IND_1": "10",
        "NO_REGISTRADOS": "1",
        "NULOS": "4",
        "TOTAL_VOTOS_ASENTADO": "200",
    }
    base.update(overrides)
    return base


def received(eleccion, people, clave=CLAVE):
    registrar_acopio(
        eleccion=eleccion,
        clave_acta=clave,
        usuario=people["acopiador"],
        catd="CATD 01",
        cuando=NIGHT,
        mecanismo_traslado="F",
    )
    return digitalizar(
        eleccion=eleccion,
        clave_acta=clave,
        usuario=people["acopiador"],
        catd="CATD 01",
        cuando=NIGHT + timedelta(minutes=1),
        origen="CATD",
        digitalizacion="ESCANER",
        tipo_documento="ACTA PREP",
        contenido=IMAGE,
    )


def test_an_acta_goes_from_acopio_to_verified_leaving_one_event_per_step(eleccion, people):
    acta = received(eleccion, people)
    capturar(
        acta=acta,
        usuario=people["capturista1"],
        valores=values(),
        cuando=NIGHT + timedelta(minutes=2),
    )
    capturar(
        acta=acta,
        usuario=people["capturista2"],
        valores=values(),
        cuando=NIGHT + timedelta(minutes=3),
    )
    verificar(acta=acta, usuario=people["verificador"], cuando=NIGHT + timedelta(minutes=4))

    acta.refresh_from_db()
    assert acta.estado == Estado.VERIFICADA
    assert acta.valores["MORENA"] == "90"
    assert acta.fecha_hora_captura == NIGHT + timedelta(minutes=2)
    steps = list(
        EventoActa.objects.filter(acta=acta).values_list("tipo", "estado_anterior", "estado_nuevo")
    )
    assert steps == [
        ("ACOPIO", "ESPERADA", "ACOPIADA"),
        ("DIGITALIZACION", "ACOPIADA", "DIGITALIZADA"),
        ("CAPTURA", "DIGITALIZADA", "CAPTURADA"),
        ("CAPTURA", "CAPTURADA", "CAPTURADA"),
        ("VERIFICACION", "CAPTURADA", "VERIFICADA"),
    ]


def test_the_image_is_stored_under_its_sha256_and_a_second_upload_reuses_it(eleccion, people):
    acta = received(eleccion, people)
    sha = hashlib.sha256(IMAGE).hexdigest()

    assert acta.imagen_id == sha
    imagen = Imagen.objects.get(sha256=sha)
    assert imagen.tamano == len(IMAGE)
    assert imagen.archivo.read() == IMAGE
    digitalizar(
        eleccion=eleccion,
        clave_acta=CLAVE,
        usuario=people["acopiador"],
        catd="CATD 01",
        cuando=NIGHT + timedelta(minutes=5),
        origen="CASILLA",
        digitalizacion="MOVIL",
        tipo_documento="ACTA PREP",
        contenido=IMAGE,
    )
    assert Imagen.objects.count() == 1


def test_a_capturista_cannot_capture_the_same_acta_twice(eleccion, people):
    acta = received(eleccion, people)
    capturar(acta=acta, usuario=people["capturista1"], valores=values(), cuando=NIGHT)

    with pytest.raises(CaptureError, match="ya capturó"):
        capturar(acta=acta, usuario=people["capturista1"], valores=values(), cuando=NIGHT)
    assert Captura.objects.count() == 1


def test_nobody_verifies_an_acta_they_captured(eleccion, people):
    acta = received(eleccion, people)
    capturar(acta=acta, usuario=people["capturista1"], valores=values(), cuando=NIGHT)
    capturar(acta=acta, usuario=people["capturista2"], valores=values(), cuando=NIGHT)

    with pytest.raises(CaptureError, match="no puede verificarla"):
        verificar(acta=acta, usuario=people["capturista2"], cuando=NIGHT)
    acta.refresh_from_db()
    assert acta.estado == Estado.CAPTURADA


def test_disagreeing_captures_are_not_verified_and_name_the_differing_fields(eleccion, people):
    acta = received(eleccion, people)
    capturar(acta=acta, usuario=people["capturista1"], valores=values(), cuando=NIGHT)
    capturar(
        acta=acta,
        usuario=people["capturista2"],
        valores=values(PRI="48", NULOS="ILEGIBLE"),
        cuando=NIGHT,
    )

    with pytest.raises(CaptureError, match="difieren en NULOS, PRI"):
        verificar(acta=acta, usuario=people["verificador"], cuando=NIGHT)


def test_one_capture_is_not_enough_to_verify(eleccion, people):
    acta = received(eleccion, people)
    capturar(acta=acta, usuario=people["capturista1"], valores=values(), cuando=NIGHT)

    with pytest.raises(CaptureError, match="1 de 2 capturas"):
        verificar(acta=acta, usuario=people["verificador"], cuando=NIGHT)


@pytest.mark.parametrize(
    ("field", "value"),
    [("PAN", "-3"), ("PAN", "muchos"), ("NULOS", "1.5"), ("MORENA", "")],
)
def test_a_capture_with_a_value_that_is_not_a_count_is_refused(eleccion, people, field, value):
    acta = received(eleccion, people)

    with pytest.raises(CaptureError, match=f"campo {field}"):
        capturar(
            acta=acta, usuario=people["capturista1"], valores=values(**{field: value}), cuando=NIGHT
        )
    assert Captura.objects.count() == 0


def test_a_capture_must_hold_exactly_the_fields_on_the_actas_ballot(eleccion, people):
    clave = "230101B010002"  # CAND_IND_1 is not on this ballot
    acta = received(eleccion, people, clave=clave)
    assert "CAND_IND_1" not in campos_del_acta(acta)

    with pytest.raises(CaptureError, match="no corresponden a esta acta CAND_IND_1"):
        capturar(acta=acta, usuario=people["capturista1"], valores=values(), cuando=NIGHT)
    missing = values()
    del missing["CAND_IND_1"], missing["PAN"]
    with pytest.raises(CaptureError, match="faltan PAN"):
        capturar(acta=acta, usuario=people["capturista1"], valores=missing, cuando=NIGHT)


def test_ilegible_and_sin_dato_are_accepted_values(eleccion, people):
    acta = received(eleccion, people)
    captura = capturar(
        acta=acta,
        usuario=people["capturista1"],
        valores=values(PAN="ilegible", NULOS="SIN DATO"),
        cuando=NIGHT,
    )
    assert captura.valores["PAN"] == "ILEGIBLE"
    assert captura.valores["NULOS"] == "SIN DATO"


def test_an_acta_outside_the_catalog_is_registered_fuera_de_catalogo_not_refused(eleccion, people):
    acta = registrar_acopio(
        eleccion=eleccion,
        clave_acta="239999B010002",
        usuario=people["acopiador"],
        catd="CATD 01",
        cuando=NIGHT,
    )
    assert acta.fuera_catalogo
    assert acta.estado == Estado.ACOPIADA
    assert acta.identidad_capturada["seccion"] == 9999
    assert acta.identidad_capturada["tipo"] == "B"


def test_an_acta_fuera_de_catalogo_is_published_apart_and_adds_to_no_total(eleccion, people):
    clave = "239999B010002"
    received(eleccion, people, clave=clave)
    acta = Acta.objects.get(clave_acta=clave)
    for person in ("capturista1", "capturista2"):
        capturar(acta=acta, usuario=people[person], valores=values(), cuando=NIGHT)
    verificar(acta=acta, usuario=people["verificador"], cuando=NIGHT)
    out = StringIO()

    database = write_corte_database(
        eleccion, hasta=NIGHT + timedelta(hours=1), out=out, settings=RuleSettings()
    )

    assert database.summary["ACTAS_REGISTRADAS"] == "1"
    assert database.summary["ACTAS_FUERA_CATALOGO"] == "1"
    assert database.summary["ACTAS_CAPTURADAS"] == "0"
    assert database.summary["TOTAL_VOTOS_C_CS"] == "0"
    row = out.getvalue().split("\n")[7].split("|")
    assert (row[0], row[1], row[6], row[11]) == ("-", clave, "9999", "-")


def test_an_acta_cannot_be_received_twice(eleccion, people):
    received(eleccion, people)
    with pytest.raises(IntakeError, match="ya tiene acopio"):
        registrar_acopio(
            eleccion=eleccion,
            clave_acta=CLAVE,
            usuario=people["acopiador"],
            catd="CATD 02",
            cuando=NIGHT,
        )


def test_an_unknown_transport_mechanism_is_refused(eleccion, people):
    with pytest.raises(IntakeError, match="MECANISMOS_TRASLADO"):
        registrar_acopio(
            eleccion=eleccion,
            clave_acta=CLAVE,
            usuario=people["acopiador"],
            catd="CATD 01",
            cuando=NIGHT,
            mecanismo_traslado="X",
        )
    assert not Acta.objects.exists()


def test_sin_acta_is_confirmed_in_verification_and_then_takes_no_capture(eleccion, people):
    acta = registrar_sin_acta(
        eleccion=eleccion,
        clave_acta=CLAVE,
        motivo=MotivoSinActa.PAQUETE_NO_ENTREGADO,
        usuario=people["capturista1"],
        catd="CATD 01",
        cuando=NIGHT,
        mecanismo_traslado="D",
    )
    verificar(acta=acta, usuario=people["verificador"], cuando=NIGHT + timedelta(minutes=1))

    acta.refresh_from_db()
    assert acta.estado == Estado.VERIFICADA
    with pytest.raises(CaptureError, match="SIN ACTA"):
        capturar(acta=acta, usuario=people["capturista2"], valores=values(), cuando=NIGHT)


def test_the_corte_database_counts_what_the_rules_decide(eleccion, people):
    acta = received(eleccion, people)
    capturar(acta=acta, usuario=people["capturista1"], valores=values(PAN="SIN DATO"), cuando=NIGHT)
    capturar(acta=acta, usuario=people["capturista2"], valores=values(PAN="SIN DATO"), cuando=NIGHT)
    verificar(acta=acta, usuario=people["verificador"], cuando=NIGHT + timedelta(minutes=9))
    out = StringIO()

    database = write_corte_database(
        eleccion, hasta=NIGHT + timedelta(minutes=10), out=out, settings=RuleSettings()
    )

    assert database.corte == "2019/06/02 20:10 (UTC-5)"
    assert database.summary["ACTAS_ESPERADAS"] == "3"
    assert database.summary["ACTAS_CONTABILIZADAS"] == "1"
    assert database.summary["TOTAL_VOTOS_C_CS"] == str(40 + 90 + 5 + 10 + 1 + 4)
    row = out.getvalue().split("\n")[7].split("|")
    assert row[0] == '="230100B0100"'
    assert row[1] == CLAVE
    assert "ALGUN DATO ILEGIBLE O SIN DATO" in row
    assert hashlib.sha256(IMAGE).hexdigest() in row
    assert "2019-06-02 20:00:00" in row  # acopio, in the institute's time zone
