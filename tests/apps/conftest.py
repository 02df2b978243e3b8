from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from openprep.catalog.services import ActaEsperadaSpec, importar_eleccion
from openprep.core import model as core

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
    return importar_eleccion(election=election, zona="UTC-5", actas=specs)


@pytest.fixture(scope="session", autouse=True)
def system_checks(django_test_environment):
    """Refuse to test a project that would refuse to start, as Django's own runner does
    (e.g. a view without an access policy: openprep.E001)."""
    call_command("check", stdout=io.StringIO())
