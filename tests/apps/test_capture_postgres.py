"""The capture path's hand-written PostgreSQL statements (capture.postgres) under a race
the ORM path never meets: captures committed while a capture waited for the acta's lock."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from django.db import connection, transaction

from openprep.accounts.models import Rol
from openprep.accounts.services import registrar_catd, registrar_operador
from openprep.capture import queue
from openprep.capture.models import Captura, Tarea
from openprep.capture.services import Resultado, campos_del_acta, capturar
from openprep.intake.models import Acta, EventoActa
from openprep.intake.services import digitalizar, registrar_acopio

NIGHT = datetime(2024, 6, 2, 20, 0, tzinfo=timezone(timedelta(hours=-6)))
CLAVE = "230100B010002"
CATD = "CATD-01"
pytestmark = pytest.mark.postgresql


@pytest.fixture(autouse=True)
def solo_postgresql(settings, tmp_path):
    if connection.vendor != "postgresql":  # an ad-hoc run on SQLite: make deselects these
        pytest.skip("the hand-written statements run on PostgreSQL only")
    settings.MEDIA_ROOT = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def gente(transactional_db):
    catd = registrar_catd(clave=CATD, nombre="Chetumal")
    return {
        nombre: registrar_operador(usuario=nombre, rol=rol, clave="x" * 12, catd=catd).user
        for nombre, rol in (
            ("acopiador", Rol.ACOPIADOR),
            ("capturista1", Rol.CAPTURISTA),
            ("capturista2", Rol.CAPTURISTA),
        )
    }


def digitalizada(eleccion, gente) -> Acta:
    comun = {"eleccion": eleccion, "clave_acta": CLAVE, "usuario": gente["acopiador"]}
    registrar_acopio(**comun, catd=CATD, cuando=NIGHT)
    return digitalizar(
        **comun,
        catd=CATD,
        cuando=NIGHT,
        origen="CATD",
        digitalizacion="ESCANER",
        tipo_documento="ACTA PREP",
        contenido=b"imagen",
    )


def test_a_capture_committed_while_another_waited_for_the_lock_is_counted(eleccion, gente):
    acta = digitalizada(eleccion, gente)
    valores = dict.fromkeys(campos_del_acta(acta), "10")
    queue.siguiente(usuario=gente["capturista2"], tarea=Tarea.CAPTURA, ahora=NIGHT)
    bloqueada, resultado, errores = threading.Event(), {}, []

    def primera_captura() -> None:
        # Someone captures the acta (as a replay does, without a claim) while holding its
        # lock long enough for the second capture to be waiting on it.
        try:
            with transaction.atomic():
                Acta.objects.select_for_update().get(pk=acta.pk)
                bloqueada.set()
                time.sleep(0.5)
                capturar(acta=acta, usuario=gente["capturista1"], valores=valores, cuando=NIGHT)
        except BaseException as exc:  # reported by the main thread
            errores.append(exc)
        finally:
            connection.close()

    def segunda_captura() -> None:
        try:
            bloqueada.wait(5)
            _, resultado["segunda"] = queue.capturar_asignada(
                usuario=gente["capturista2"], clave_acta=CLAVE, valores=valores, cuando=NIGHT
            )
        except BaseException as exc:
            errores.append(exc)
        finally:
            connection.close()

    hilos = [threading.Thread(target=primera_captura), threading.Thread(target=segunda_captura)]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join()

    assert errores == []
    # The waiting capture saw the first one: it is the second, and the two agree.
    assert resultado["segunda"] == Resultado.VERIFICADA
    acta.refresh_from_db()
    assert (acta.estado, acta.num_capturas) == ("VERIFICADA", 2)
    assert Captura.objects.filter(acta=acta).count() == 2
    tipos = list(EventoActa.objects.filter(acta=acta).values_list("tipo", flat=True))
    assert tipos[-3:] == ["CAPTURA", "CAPTURA", "VERIFICACION"]


def test_both_captures_and_the_verification_are_recorded_as_the_orm_records_them(eleccion, gente):
    acta = digitalizada(eleccion, gente)
    valores = dict.fromkeys(campos_del_acta(acta), "7")
    for quien in ("capturista1", "capturista2"):
        queue.siguiente(usuario=gente[quien], tarea=Tarea.CAPTURA, ahora=NIGHT)
        queue.capturar_asignada(
            usuario=gente[quien], clave_acta=CLAVE, valores=valores, cuando=NIGHT, catd=CATD
        )

    acta.refresh_from_db()
    primera, segunda = Captura.objects.filter(acta=acta)
    assert acta.valores == valores == segunda.valores
    assert acta.fecha_hora_captura == acta.fecha_hora_verificacion == NIGHT
    eventos = list(EventoActa.objects.filter(acta=acta).order_by("id"))[-3:]
    assert [(e.tipo, e.estado_anterior, e.estado_nuevo) for e in eventos] == [
        ("CAPTURA", "DIGITALIZADA", "CAPTURADA"),
        ("CAPTURA", "CAPTURADA", "CAPTURADA"),
        ("VERIFICACION", "CAPTURADA", "VERIFICADA"),
    ]
    assert [e.usuario for e in eventos] == [gente["capturista1"], *[gente["capturista2"]] * 2]
    assert {e.catd for e in eventos} == {CATD}
    assert [e.datos for e in eventos] == [
        {"captura": primera.pk},
        {"captura": segunda.pk},
        {"automatica": True, "capturas": [primera.pk, segunda.pk], "valores": valores},
    ]


def test_a_claimed_acta_reads_a_column_the_statement_did_not_read_from_the_database(
    eleccion, gente
):
    # The statements read only the columns the capture needs; the rest are deferred as
    # the ORM defers them, so reading one queries instead of inventing its default.
    acta = digitalizada(eleccion, gente)
    Acta.objects.filter(pk=acta.pk).update(origen="CASILLA")
    asignacion = queue.siguiente(usuario=gente["capturista1"], tarea=Tarea.CAPTURA, ahora=NIGHT)

    reclamada = asignacion.acta
    assert not reclamada._state.adding and not asignacion._state.adding
    assert "origen" in reclamada.get_deferred_fields()
    assert reclamada.origen == "CASILLA"
    assert reclamada.esperada.clave_acta == acta.esperada.clave_acta
    assert asignacion.usuario == gente["capturista1"]
