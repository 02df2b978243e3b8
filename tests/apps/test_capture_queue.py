"""The capture and verification work queues: who gets which acta, claimed atomically."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from django.db import OperationalError, connection

from openprep.accounts.models import Rol
from openprep.accounts.services import registrar_catd, registrar_operador
from openprep.capture import queue
from openprep.capture.models import Asignacion, Captura, Tarea
from openprep.capture.services import ConflictoDeEstado, Resultado, capturar
from openprep.core.model import MotivoSinActa
from openprep.intake.models import Acta, EventoActa
from openprep.intake.services import digitalizar, registrar_acopio, registrar_sin_acta

NIGHT = datetime(2024, 6, 2, 20, 0, tzinfo=timezone(timedelta(hours=-6)))
ORDINARIAS = ("230100B010002", "230101B010002")
ESPECIAL = "230102S010003"
CATD = "CATD-01"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.OPENPREP_ASIGNACION_MINUTOS = 10


@pytest.fixture
def gente(db):
    catd = registrar_catd(clave=CATD, nombre="Chetumal")

    def persona(nombre: str, rol: Rol):
        return registrar_operador(usuario=nombre, rol=rol, clave="x" * 12, catd=catd).user

    return {
        "acopiador": persona("acopiador", Rol.ACOPIADOR),
        "coordinador": persona("coordinador", Rol.COORDINADOR),
        **{f"capturista{i}": persona(f"capturista{i}", Rol.CAPTURISTA) for i in range(1, 7)},
        "verificador": persona("verificador", Rol.VERIFICADOR),
        "verificador2": persona("verificador2", Rol.VERIFICADOR),
    }


def valores(acta: Acta, **cambios: str) -> dict[str, str]:
    from openprep.capture.services import campos_del_acta

    base = dict.fromkeys(campos_del_acta(acta), "10")
    base.update(cambios)
    return base


def digitalizada(eleccion, gente, clave: str, *, minuto: int = 0) -> Acta:
    """An acta received and scanned (its image is its key: one image per acta)."""
    registrar_acopio(
        eleccion=eleccion,
        clave_acta=clave,
        usuario=gente["acopiador"],
        catd=CATD,
        cuando=NIGHT,
    )
    acta = digitalizar(
        eleccion=eleccion,
        clave_acta=clave,
        usuario=gente["acopiador"],
        catd=CATD,
        cuando=NIGHT + timedelta(minutes=minuto),
        origen="CATD",
        digitalizacion="ESCANER",
        tipo_documento="ACTA PREP",
        contenido=f"imagen de {clave}".encode(),
    )
    # The queue orders by when the acta was digitalized; make it explicit.
    Acta.objects.filter(pk=acta.pk).update(
        fecha_hora_digitalizacion=NIGHT + timedelta(minutes=minuto)
    )
    return acta


def siguiente(usuario, *, tarea=Tarea.CAPTURA, ahora=NIGHT):
    return queue.siguiente(usuario=usuario, tarea=tarea, ahora=ahora)


def clave_de(asignacion) -> str | None:
    return asignacion.acta.clave_acta if asignacion else None


# --- the capture queue ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_oldest_digitalization_is_handed_out_first(eleccion, gente):
    digitalizada(eleccion, gente, ORDINARIAS[0], minuto=5)
    digitalizada(eleccion, gente, ORDINARIAS[1], minuto=1)

    assert clave_de(siguiente(gente["capturista1"])) == ORDINARIAS[1]
    assert clave_de(siguiente(gente["capturista2"])) == ORDINARIAS[0]
    assert siguiente(gente["capturista3"]) is None


@pytest.mark.django_db
def test_asking_again_while_holding_an_acta_returns_the_same_acta_with_a_new_deadline(
    eleccion, gente
):
    for i, clave in enumerate(ORDINARIAS):
        digitalizada(eleccion, gente, clave, minuto=i)
    primera = siguiente(gente["capturista1"])
    otra_vez = siguiente(gente["capturista1"], ahora=NIGHT + timedelta(minutes=3))

    assert clave_de(otra_vez) == clave_de(primera) == ORDINARIAS[0]
    assert otra_vez.hasta == NIGHT + timedelta(minutes=13)
    assert Asignacion.objects.filter(usuario=gente["capturista1"]).count() == 1


@pytest.mark.django_db
def test_an_acta_without_image_or_sin_acta_never_reaches_the_capture_queue(eleccion, gente):
    registrar_acopio(
        eleccion=eleccion,
        clave_acta=ORDINARIAS[0],
        usuario=gente["acopiador"],
        catd=CATD,
        cuando=NIGHT,
    )
    registrar_sin_acta(
        eleccion=eleccion,
        clave_acta=ORDINARIAS[1],
        motivo=MotivoSinActa.CASILLA_NO_INSTALADA,
        usuario=gente["coordinador"],
        catd=CATD,
        cuando=NIGHT,
    )

    assert siguiente(gente["capturista1"]) is None


@pytest.mark.django_db
def test_nobody_is_handed_an_acta_they_captured_and_two_captures_close_it(eleccion, gente):
    acta = digitalizada(eleccion, gente, ORDINARIAS[0])
    capturar(acta=acta, usuario=gente["capturista1"], valores=valores(acta), cuando=NIGHT)

    assert siguiente(gente["capturista1"]) is None
    asignacion = siguiente(gente["capturista2"])
    assert clave_de(asignacion) == ORDINARIAS[0]
    _, resultado = queue.capturar_asignada(
        usuario=gente["capturista2"],
        clave_acta=ORDINARIAS[0],
        valores=valores(acta, PAN="11"),
        cuando=NIGHT,
    )
    assert resultado == Resultado.COTEJO
    assert siguiente(gente["capturista3"]) is None  # in cotejo now, not in capture


@pytest.mark.django_db
def test_a_verified_acta_leaves_the_queue(eleccion, gente):
    acta = digitalizada(eleccion, gente, ORDINARIAS[0])
    for quien in ("capturista1", "capturista2"):
        siguiente(gente[quien])
        queue.capturar_asignada(
            usuario=gente[quien], clave_acta=ORDINARIAS[0], valores=valores(acta), cuando=NIGHT
        )

    assert Acta.objects.get(pk=acta.pk).estado == "VERIFICADA"
    assert siguiente(gente["capturista3"]) is None
    assert not Asignacion.objects.exists()


@pytest.mark.django_db
def test_a_claim_keeps_the_acta_from_others_until_it_expires(eleccion, gente):
    digitalizada(eleccion, gente, ORDINARIAS[0])
    siguiente(gente["capturista1"])

    assert siguiente(gente["capturista2"], ahora=NIGHT + timedelta(minutes=9)) is None
    tarde = siguiente(gente["capturista2"], ahora=NIGHT + timedelta(minutes=10, seconds=1))
    assert clave_de(tarde) == ORDINARIAS[0]
    assert tarde.usuario == gente["capturista2"]
    assert Asignacion.objects.count() == 1


@pytest.mark.django_db
def test_a_capture_under_a_claim_someone_else_took_over_is_refused_and_writes_nothing(
    eleccion, gente
):
    acta = digitalizada(eleccion, gente, ORDINARIAS[0])
    siguiente(gente["capturista1"])
    siguiente(gente["capturista2"], ahora=NIGHT + timedelta(minutes=11))

    with pytest.raises(ConflictoDeEstado, match="no le está asignada"):
        queue.capturar_asignada(
            usuario=gente["capturista1"],
            clave_acta=ORDINARIAS[0],
            valores=valores(acta),
            cuando=NIGHT,
        )
    assert Captura.objects.count() == 0
    assert EventoActa.objects.filter(tipo="CAPTURA").count() == 0


@pytest.mark.django_db
def test_a_released_acta_goes_back_to_the_queue(eleccion, gente):
    digitalizada(eleccion, gente, ORDINARIAS[0])
    siguiente(gente["capturista1"])

    queue.liberar(usuario=gente["capturista1"], clave_acta=ORDINARIAS[0], tarea=Tarea.CAPTURA)

    assert not Asignacion.objects.exists()
    assert clave_de(siguiente(gente["capturista2"])) == ORDINARIAS[0]


# --- the verification queue ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_verification_queue_holds_disagreements_and_sin_acta_for_someone_else(eleccion, gente):
    acta = digitalizada(eleccion, gente, ORDINARIAS[0])
    capturar(acta=acta, usuario=gente["capturista1"], valores=valores(acta), cuando=NIGHT)
    assert siguiente(gente["verificador"], tarea=Tarea.VERIFICACION) is None  # one capture
    capturar(acta=acta, usuario=gente["capturista2"], valores=valores(acta, PRI="9"), cuando=NIGHT)
    registrar_sin_acta(
        eleccion=eleccion,
        clave_acta=ORDINARIAS[1],
        motivo=MotivoSinActa.PAQUETE_NO_ENTREGADO,
        usuario=gente["verificador2"],
        catd=CATD,
        cuando=NIGHT + timedelta(minutes=1),
    )

    primera = siguiente(gente["verificador"], tarea=Tarea.VERIFICACION)
    segunda = siguiente(gente["verificador2"], tarea=Tarea.VERIFICACION)

    assert clave_de(primera) == ORDINARIAS[0]
    # verificador2 registered the SIN ACTA: it waits for someone else.
    assert segunda is None
    queue.liberar(usuario=gente["verificador"], clave_acta=ORDINARIAS[0], tarea=Tarea.VERIFICACION)
    assert clave_de(siguiente(gente["verificador2"], tarea=Tarea.VERIFICACION)) == ORDINARIAS[0]
    assert clave_de(siguiente(gente["verificador"], tarea=Tarea.VERIFICACION)) == ORDINARIAS[1]


@pytest.mark.django_db
def test_a_verificador_who_captured_the_acta_is_not_handed_its_cotejo(eleccion, gente):
    acta = digitalizada(eleccion, gente, ORDINARIAS[0])
    capturar(acta=acta, usuario=gente["capturista1"], valores=valores(acta), cuando=NIGHT)
    capturar(acta=acta, usuario=gente["capturista2"], valores=valores(acta, PRI="9"), cuando=NIGHT)
    # The capturista later works as a verificador: still not on this acta.
    gente["capturista1"].operador.rol = Rol.VERIFICADOR
    gente["capturista1"].operador.save()

    assert siguiente(gente["capturista1"], tarea=Tarea.VERIFICACION) is None
    assert clave_de(siguiente(gente["verificador"], tarea=Tarea.VERIFICACION)) == ORDINARIAS[0]


# --- racing for the queue ------------------------------------------------------------------


def esperando_turno(funcion, *args):
    """Call ``funcion``; on SQLite, wait for the write lock as a file database would.

    The test database is SQLite's shared-cache memory database, which answers "database
    table is locked" at once instead of honouring the busy timeout that makes a file
    database's writers wait their turn; retrying the whole transaction is that wait.
    """
    while True:
        try:
            return funcion(*args)
        except OperationalError as exc:
            if connection.vendor != "sqlite" or "locked" not in str(exc):
                raise
            time.sleep(0.001)


@pytest.mark.django_db(transaction=True)
def test_capturistas_racing_for_the_queue_each_get_a_different_acta(eleccion, gente):
    claves = [*ORDINARIAS, ESPECIAL]
    for i, clave in enumerate(claves):
        digitalizada(eleccion, gente, clave, minuto=i)
    capturistas = [gente[f"capturista{i}"] for i in range(1, 6)]
    salida = threading.Barrier(len(capturistas))
    obtenidas: dict[str, str | None] = {}
    errores: list[BaseException] = []

    def pedir(usuario) -> None:
        try:
            salida.wait()
            obtenidas[usuario.username] = clave_de(esperando_turno(siguiente, usuario))
        except BaseException as exc:  # reported by the main thread
            errores.append(exc)
        finally:
            connection.close()

    hilos = [threading.Thread(target=pedir, args=(u,)) for u in capturistas]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join()

    assert errores == []
    repartidas = [c for c in obtenidas.values() if c is not None]
    assert sorted(repartidas) == sorted(claves)  # every acta once, nobody twice
    assert list(obtenidas.values()).count(None) == len(capturistas) - len(claves)
    assert Asignacion.objects.count() == len(claves)


@pytest.mark.django_db(transaction=True)
def test_capturistas_working_the_queue_at_once_capture_every_acta_exactly_twice(eleccion, gente):
    claves = [*ORDINARIAS, ESPECIAL]
    for i, clave in enumerate(claves):
        digitalizada(eleccion, gente, clave, minuto=i)
    capturistas = [gente[f"capturista{i}"] for i in range(1, 7)]
    salida = threading.Barrier(len(capturistas))
    errores: list[BaseException] = []

    def capturar_la(usuario, acta: Acta) -> None:
        queue.capturar_asignada(
            usuario=usuario, clave_acta=acta.clave_acta, valores=valores(acta), cuando=NIGHT
        )

    def trabajar(usuario) -> None:
        try:
            salida.wait()
            limite = time.monotonic() + 30
            while time.monotonic() < limite:
                asignacion = esperando_turno(siguiente, usuario)
                if asignacion is None:  # the rest may be in someone else's hands
                    pendientes = Acta.objects.exclude(estado="VERIFICADA")
                    if not esperando_turno(pendientes.exists):
                        return
                    time.sleep(0.01)
                    continue
                esperando_turno(capturar_la, usuario, asignacion.acta)
        except BaseException as exc:  # reported by the main thread
            errores.append(exc)
        finally:
            connection.close()

    hilos = [threading.Thread(target=trabajar, args=(u,)) for u in capturistas]
    for hilo in hilos:
        hilo.start()
    for hilo in hilos:
        hilo.join()

    assert errores == []
    assert sorted(Acta.objects.values_list("estado", flat=True)) == ["VERIFICADA"] * 3
    for acta in Acta.objects.all():
        assert acta.capturas.count() == 2
        assert len({c.capturista_id for c in acta.capturas.all()}) == 2
    assert not Asignacion.objects.exists()
