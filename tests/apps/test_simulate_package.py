"""The synthetic election package: it imports, it is deterministic, its truth is consistent."""

from __future__ import annotations

import csv
import hashlib
import io
import random
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from django.contrib.auth import get_user_model
from PIL import Image

from openprep.accounts.models import Operador
from openprep.catalog.models import ActaEsperada, Casilla, Eleccion
from openprep.catalog.package import leer_paquete
from openprep.catalog.services import importar_paquete
from openprep.core.audit import audit
from openprep.core.columnar import audit_file
from openprep.core.model import Marca, MotivoSinActa
from openprep.core.prepdb import PrepDbReader
from openprep.simulate.geography import SimulacionError
from openprep.simulate.images import render_acta
from openprep.simulate.package import ADMINISTRADOR, JORNADA, write_package
from openprep.simulate.truth import REGLAS, leer_verdad

ZONA = ZoneInfo("America/Cancun")
ELECCIONES = ("GUB", "DIP", "AYUN")


@pytest.fixture(scope="module")
def paquete(tmp_path_factory):
    out = tmp_path_factory.mktemp("simulacro")
    return write_package(out=out, casillas=400, seed=11, capturistas_por_catd=2, workers=1)


@pytest.fixture
def hashing_rapido(settings):
    """Drill accounts are many; a cheap hasher keeps the import test fast."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def truth(paquete, eleccion: str):
    return list(leer_verdad(paquete.out / "verdad" / f"{eleccion}.csv", tz=ZONA))


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# --- the package ------------------------------------------------------------------------


def test_the_package_has_every_kind_of_casilla_with_a_realistic_lista_nominal(paquete):
    casillas = rows_of(paquete.out / "casillas.csv")

    assert len(casillas) == paquete.casillas == 400
    tipos = Counter(c["TIPO_CASILLA"] for c in casillas)
    assert set(tipos) == {"B", "C", "E", "S", "V"}
    assert tipos["B"] == paquete.secciones
    assert {c["EXT_CONTIGUA"] for c in casillas if c["TIPO_CASILLA"] == "E"} >= {"0", "1"}
    assert {c["LISTA_NOMINAL"] for c in casillas if c["TIPO_CASILLA"] == "S"} == {"0"}
    ordinarias = [int(c["LISTA_NOMINAL"]) for c in casillas if c["TIPO_CASILLA"] in "BCE"]
    assert min(ordinarias) > 0 and max(ordinarias) <= 750
    assert {c["UBICACION_CASILLA"] for c in casillas} == {"1", "2"}
    assert all(1 <= int(c["SECCION"]) <= 9999 for c in casillas)
    assert {c["CATD"] for c in casillas} == set(paquete.catds)
    por_seccion = Counter(c["SECCION"] for c in casillas if c["TIPO_CASILLA"] == "C")
    assert max(por_seccion.values()) >= 2  # a sección with several contiguas


def test_the_package_imports_with_its_catds_and_the_accounts_a_night_needs(
    paquete, db, hashing_rapido
):
    resultado = importar_paquete(leer_paquete(paquete.out))

    assert resultado.conteos["casillas"].creados == 400
    assert not Casilla.objects.filter(catd=None).exists()
    assert Eleccion.objects.count() == 3
    assert (
        len(
            {e.tipo_acta for e in Eleccion.objects.all()}
            | {e.tipo_acta_especial for e in Eleccion.objects.all()}
        )
        == 6
    )
    for catd in paquete.catds:
        roles = Counter(Operador.objects.filter(catd__clave=catd).values_list("rol", flat=True))
        assert roles == {
            "acopiador": 1,
            "digitalizador": 1,
            "capturista": 2,
            "verificador": 2,
            "coordinador": 1,
        }
    admin = get_user_model().objects.get(username=ADMINISTRADOR)
    assert admin.operador.rol == "administrador" and admin.is_superuser
    cuenta = next(c for c in paquete.cuentas if c.rol == "capturista")
    assert get_user_model().objects.get(username=cuenta.usuario).check_password(cuenta.clave)
    assert importar_paquete(leer_paquete(paquete.out)).sin_cambios


def test_the_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path):
    first = write_package(out=tmp_path / "a", casillas=40, seed=5, workers=1)
    again = write_package(out=tmp_path / "b", casillas=40, seed=5, workers=1)
    other = write_package(out=tmp_path / "c", casillas=40, seed=6, workers=1)

    assert files_of(first.out) == files_of(again.out)
    assert files_of(first.out).keys() == files_of(other.out).keys()
    assert files_of(first.out)["casillas.csv"] != files_of(other.out)["casillas.csv"]
    assert files_of(first.out)["verdad/GUB.csv"] != files_of(other.out)["verdad/GUB.csv"]


def test_a_size_outside_the_limits_or_a_bad_share_is_refused_in_spanish(tmp_path):
    with pytest.raises(SimulacionError, match="no se puede simular una elección con 5 casillas"):
        write_package(out=tmp_path / "p", casillas=5, seed=1)
    with pytest.raises(SimulacionError, match="la proporción sin_acta debe estar entre 0 y 1"):
        write_package(out=tmp_path / "p", casillas=40, seed=1, sin_acta=1.5)
    with pytest.raises(TypeError):
        write_package(out=tmp_path / "p", casillas=40, seed=1, ilegibles=0.1)


# --- the truth --------------------------------------------------------------------------


@pytest.mark.parametrize("eleccion", ELECCIONES)
def test_every_truth_file_passes_the_audit_without_discrepancies_or_warnings(paquete, eleccion):
    path = paquete.out / "verdad" / f"{eleccion}.csv"

    with PrepDbReader(path, settings=REGLAS) as reader:
        por_filas = audit(reader.header, reader.rows(), settings=REGLAS)
    columnar = audit_file(path, settings=REGLAS)

    assert por_filas.consistent and columnar.consistent
    assert por_filas.warnings == [] and columnar.warnings == []
    assert por_filas.actas == paquete.verdad[eleccion].actas_esperadas + 1  # one fuera


def test_the_truth_holds_every_expected_acta_of_the_catalog(paquete, db, hashing_rapido):
    importar_paquete(leer_paquete(paquete.out))
    for eleccion in Eleccion.objects.all():
        esperadas = {
            a.clave_acta: (a.casilla.lista_nominal, set(a.no_aplica), a.casilla.catd.clave)
            for a in ActaEsperada.objects.filter(eleccion=eleccion).select_related("casilla__catd")
        }
        with PrepDbReader(paquete.out / "verdad" / f"{eleccion.clave}.csv", settings=REGLAS) as r:
            assert r.header.election.nombre == eleccion.nombre
            assert r.header.summary["ACTAS_ESPERADAS"] == str(len(esperadas))
            columnas = r.header.election.columns
            filas = [row for row in r.rows() if not row.acta.fuera_catalogo]
        assert [row.clave_acta for row in filas] == list(
            ActaEsperada.objects.filter(eleccion=eleccion)
            .order_by("orden")
            .values_list("clave_acta", flat=True)
        )
        for row in filas:
            lista, no_aplica, _ = esperadas[row.clave_acta]
            guiones = {
                c for c, v in zip(columnas, row.acta.votos, strict=True) if v is Marca.NO_APLICA
            }
            assert (row.acta.lista_nominal, guiones) == (lista, no_aplica)


def test_some_columns_are_off_the_ballot_in_some_territories_only(paquete):
    dip = truth(paquete, "DIP")
    fuera_de_boleta = Counter(
        c
        for acta in dip
        if acta.sin_acta is None
        for c in ("CAND_IND_1", "C_PAN_PRI")
        if c not in acta.valores
    )
    en_boleta = Counter(
        c
        for acta in dip
        if acta.sin_acta is None
        for c in ("CAND_IND_1", "C_PAN_PRI")
        if c in acta.valores
    )
    assert fuera_de_boleta["CAND_IND_1"] and en_boleta["CAND_IND_1"]
    assert fuera_de_boleta["C_PAN_PRI"] and en_boleta["C_PAN_PRI"]
    assert all("CAND_IND_1" in a.valores for a in truth(paquete, "GUB") if a.sin_acta is None)


def test_images_decode_to_their_key_and_hash_to_the_published_sha(paquete):
    actas = truth(paquete, "AYUN")
    con_imagen = [a for a in actas if a.sin_acta is None]
    sin_acta = [a for a in actas if a.sin_acta is not None]

    for acta in [*con_imagen[:: max(1, len(con_imagen) // 12)], con_imagen[-1]]:
        imagen = acta.imagen()
        assert hashlib.sha256(imagen).hexdigest() == acta.sha
        decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(imagen)))
        assert [d.text for d in decoded] == [acta.clave_acta]
    assert sin_acta and all(a.sha == "" and a.valores == {} for a in sin_acta)
    assert len({a.sha for a in con_imagen}) == len(con_imagen)


def test_arrivals_come_after_the_polls_close_and_mostly_within_six_hours(paquete):
    cierre = datetime.combine(JORNADA, datetime.min.time(), tzinfo=ZONA).replace(hour=18)
    llegadas = [a.fecha_hora_acopio for e in ELECCIONES for a in truth(paquete, e)]
    registradas = [t for t in llegadas if t is not None]

    assert registradas and min(registradas) > cierre
    assert max(registradas) < cierre + timedelta(hours=25)
    pronto = sum(1 for t in registradas if t <= cierre + timedelta(hours=6))
    assert pronto / len(registradas) > 0.75
    origen = Counter(a.origen for a in truth(paquete, "GUB") if a.sin_acta is None)
    assert 0.45 < origen["CASILLA"] / sum(origen.values()) < 0.75


def test_anomalies_come_in_roughly_the_requested_shares(tmp_path):
    paquete = write_package(
        out=tmp_path / "p",
        casillas=300,
        seed=3,
        workers=1,
        ilegible=0.2,
        sin_dato=0.2,
        todos_ilegibles=0.03,
        excede_lista_nominal=0.05,
        sin_acta=0.1,
        fuera_catalogo=0.02,
    )
    actas = [a for e in ELECCIONES for a in truth(paquete, e)]
    catalogo = [a for a in actas if not a.fuera_catalogo]
    n = len(catalogo)
    observaciones = Counter()
    for e in ELECCIONES:
        with PrepDbReader(paquete.out / "verdad" / f"{e}.csv", settings=REGLAS) as reader:
            observaciones.update(row.observaciones for row in reader.rows())

    def share(count: int) -> float:
        return count / n

    assert n == 900 and len(actas) - n == 3 * 6
    assert 0.14 < share(sum(1 for a in catalogo if "ILEGIBLE" in a.valores.values())) < 0.30
    assert 0.14 < share(sum(1 for a in catalogo if "SIN DATO" in a.valores.values())) < 0.32
    assert 0.01 < share(observaciones["TODOS ILEGIBLES O SIN DATO"]) < 0.06
    assert 0.02 < share(observaciones["EXCEDE LISTA NOMINAL"]) < 0.09
    motivos = Counter(a.sin_acta for a in catalogo if a.sin_acta is not None)
    assert set(motivos) == set(MotivoSinActa)
    assert 0.06 < share(sum(motivos.values())) < 0.15


# --- images -----------------------------------------------------------------------------


def test_an_acta_image_is_the_same_for_the_same_values_and_shows_its_key():
    valores = {"PAN": "10", "PRI": "ILEGIBLE", "MORENA": "SIN DATO", "NULOS": "3"}

    imagen = render_acta(clave_acta="230085B010002", eleccion="GUBERNATURA", valores=valores)

    assert imagen == render_acta(
        clave_acta="230085B010002", eleccion="GUBERNATURA", valores=dict(valores)
    )
    assert imagen != render_acta(
        clave_acta="230085B010002", eleccion="GUBERNATURA", valores={**valores, "PAN": "11"}
    )
    picture = Image.open(io.BytesIO(imagen))
    assert (picture.format, picture.size) == ("PNG", (600, 800))
    assert [d.text for d in zxingcpp.read_barcodes(picture)] == ["230085B010002"]


@pytest.mark.parametrize("casillas", [20_000, 25_000, 170_648])
def test_every_scale_fits_secciones_in_four_digits(casillas):
    from openprep.simulate.geography import construir

    territorio = construir(casillas=casillas, rng=random.Random(7))
    assert len(territorio.casillas) == casillas
    assert territorio.secciones <= 9_999
    assert max(c.casilla.seccion for c in territorio.casillas) <= 9_999
