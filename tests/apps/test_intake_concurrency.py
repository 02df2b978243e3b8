"""An image arriving while a capture of the same acta commits must not undo the capture.

intake saves the whole acta row; it must read it under the row's lock, or it writes back
the capture count, state and values it read before the capture committed (a lost update:
a captured acta returned to the queue). Two real connections on PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from openprep.capture.services import campos_del_acta, capturar
from openprep.catalog.models import ActaEsperada
from openprep.intake.models import Acta
from openprep.intake.services import digitalizar, registrar_acopio

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def test_an_image_arriving_while_a_capture_commits_keeps_the_capture(
    eleccion, people, settings, tmp_path
):
    if connection.vendor != "postgresql":  # an ad-hoc run on SQLite: make deselects these
        pytest.skip("needs two concurrent connections with row locks")
    settings.MEDIA_ROOT = tmp_path
    ahora = timezone.now() - timedelta(minutes=1)
    esperada = ActaEsperada.objects.filter(eleccion=eleccion).order_by("id").first()
    clave = esperada.clave_acta
    acta = registrar_acopio(
        eleccion=eleccion, clave_acta=clave, usuario=people["acopiador"], catd="C1", cuando=ahora
    )
    comun = dict(eleccion=eleccion, clave_acta=clave, usuario=people["acopiador"], catd="C1",
                 cuando=ahora, digitalizacion="ESCANER", tipo_documento="ACTA PREP")  # fmt: skip
    digitalizar(origen="CASILLA", contenido=b"\x89PNG foto de casilla", **comun)
    valores = {c: "7" for c in campos_del_acta(acta)}
    capturing = threading.Event()

    def capture_slowly() -> None:
        try:
            with transaction.atomic():
                locked = Acta.objects.select_for_update().get(pk=acta.pk)
                capturing.set()
                time.sleep(0.5)  # the image arrives meanwhile
                capturar(acta=locked, usuario=people["capturista1"], valores=valores, cuando=ahora)
        finally:
            connection.close()

    capture = threading.Thread(target=capture_slowly)
    capture.start()
    assert capturing.wait(10)
    digitalizar(origen="CATD", contenido=b"\x89PNG escaneo de la CATD", **comun)
    capture.join(10)
    acta.refresh_from_db()
    assert acta.num_capturas == 1, "the image overwrote the capture that committed meanwhile"
    assert acta.estado == "CAPTURADA"
