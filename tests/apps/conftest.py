from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from openprep.capture.services import campos_del_acta, capturar, verificar
from openprep.catalog.services import ActaEsperadaSpec, importar_eleccion
from openprep.core import model as core
from openprep.intake.models import Estado
from openprep.intake.services import digitalizar, registrar_acopio

REFERENCE = (
    Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "QROO_DIP_LOC_2019.csv"
)


@pytest.fixture
def reference() -> Path:
    assert REFERENCE.exists(), f"reference database missing: {REFERENCE}"
    return REFERENCE


@pytest.fixture
def people(db):
    """Separate operators, as the separation of roles requires."""
    users = {}
    for name in ("acopiador", "capturista1", "capturista2", "verificador"):
        users[name] = get_user_model().objects.create_user(username=name)
    return users


def casilla(seccion: int, tipo: str = "B", *, id_distrito: int = 1) -> core.Casilla:
    return core.Casilla(
        id_entidad=23,
        entidad="QUINTANA ROO",
        id_distrito=id_distrito,
        distrito=f"DISTRITO {id_distrito}",
        seccion=seccion,
        tipo=tipo,
        id_casilla=1,
        ext_contigua=0,
        ubicacion=1,
    )


@pytest.fixture
def eleccion(db):
    """A small election: three parties, a coalition column, an independent off some ballots."""
    election = core.Election(
        nombre="DIPUTACIONES LOCALES",
        contenders=tuple(
            core.Contender.from_column(c)
            for c in ("PAN", "PRI", "MORENA", "C_PAN_PRI", "CAND_IND_1")
        ),
    )
    specs = [
        ActaEsperadaSpec(casilla=casilla(100), lista_nominal=500, tipo_acta="2"),
        ActaEsperadaSpec(
            casilla=casilla(101), lista_nominal=400, tipo_acta="2", no_aplica=("CAND_IND_1",)
        ),
        ActaEsperadaSpec(casilla=casilla(102, "S"), lista_nominal=0, tipo_acta="3"),
    ]
    eleccion = importar_eleccion(election=election, zona="UTC-5", actas=specs)
    # The TIPO_ACTA its keys end with (2; 3 for especiales): keys outside the catalog are
    # registered under it as fuera de catálogo.
    eleccion.tipo_acta, eleccion.tipo_acta_especial = "2", "3"
    eleccion.save()
    return eleccion


@pytest.fixture(scope="session", autouse=True)
def system_checks(django_test_environment):
    """Refuse to test a project that would refuse to start, as Django's own runner does
    (e.g. a view without an access policy: openprep.E001)."""
    call_command("check", stdout=io.StringIO())


@pytest.fixture
def acta_verificada(settings, tmp_path):
    """A function that takes an expected acta through acopio, digitalización (with the
    given image bytes) and two agreeing captures (all fields 7), a minute ago."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return _acta_verificada


def _acta_verificada(esperada, *, image: bytes):
    people = [get_user_model().objects.get_or_create(username=n)[0] for n in ("a", "b", "c", "v")]
    ahora = timezone.now() - timedelta(minutes=1)
    clave = esperada.clave_acta
    acta = registrar_acopio(
        eleccion=esperada.eleccion, clave_acta=clave, usuario=people[0], catd="C1", cuando=ahora
    )
    digitalizar(
        eleccion=esperada.eleccion,
        clave_acta=clave,
        usuario=people[0],
        catd="C1",
        cuando=ahora,
        origen="CATD",
        digitalizacion="ESCANER",
        tipo_documento="ACTA PREP",
        contenido=image,
    )
    valores = {c: "7" for c in campos_del_acta(acta)}
    for person in people[1:3]:
        capturar(acta=acta, usuario=person, valores=valores, cuando=ahora)
    acta.refresh_from_db()
    if acta.estado != Estado.VERIFICADA:
        verificar(acta=acta, usuario=people[3], cuando=ahora)
    return acta
