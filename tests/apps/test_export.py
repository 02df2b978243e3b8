"""``openprep export``: the current state as PREP database files, one per election."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from openprep.accounts.models import Rol
from openprep.accounts.services import registrar_operador
from openprep.capture.services import CaptureError, campos_del_acta, capturar, verificar
from openprep.catalog.models import Eleccion
from openprep.core.model import MotivoSinActa
from openprep.core.prepdb import PrepDbReader
from openprep.core.rules import RuleSettings
from openprep.intake.services import digitalizar, registrar_acopio, registrar_sin_acta

pytestmark = pytest.mark.django_db

PAQUETE = Path(__file__).resolve().parents[2] / "docs" / "ejemplo-paquete"


def run(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("export", *args, stdout=out, stderr=err)
    except SystemExit as exit:
        return int(exit.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def catalogo(db):
    call_command("catalog", "import", str(PAQUETE), stdout=StringIO())


@pytest.fixture
def gente(db):
    User = get_user_model()
    return {n: User.objects.create_user(username=n) for n in ("acopiador", "c1", "c2", "v")}


def verificada(eleccion_clave: str, clave: str, gente, **cambios: str) -> None:
    """An acta through acopio, digitalización, two agreeing captures and verification."""
    eleccion = Eleccion.objects.get(clave=eleccion_clave)
    t = timezone.now() - timedelta(minutes=5)
    registrar_acopio(
        eleccion=eleccion, clave_acta=clave, usuario=gente["acopiador"], catd="CATD-01", cuando=t
    )
    acta = digitalizar(
        eleccion=eleccion,
        clave_acta=clave,
        usuario=gente["acopiador"],
        catd="CATD-01",
        cuando=t,
        origen="CATD",
        digitalizacion="ESCANER",
        tipo_documento="ACTA PREP",
        contenido=clave.encode(),
    )
    valores = {campo: "7" for campo in campos_del_acta(acta)} | cambios
    for persona in ("c1", "c2"):
        capturar(acta=acta, usuario=gente[persona], valores=valores, cuando=t)
    try:
        verificar(acta=acta, usuario=gente["v"], cuando=t + timedelta(minutes=1))
    except CaptureError:  # two agreeing captures may already have verified it
        acta.refresh_from_db()
        assert acta.estado == "VERIFICADA"


@pytest.fixture
def noche(catalogo, gente):
    verificada("DIP", "230085B010002", gente)
    verificada("DIP", "230410B010002", gente, PAN="ILEGIBLE")
    verificada("DIP", "230086E010002", gente, MORENA="5000")
    acta = registrar_sin_acta(
        eleccion=Eleccion.objects.get(clave="DIP"),
        clave_acta="230410S010003",
        motivo=MotivoSinActa.CASILLA_NO_INSTALADA,
        usuario=gente["c1"],
        catd="CATD-02",
        cuando=timezone.now(),
    )
    verificar(acta=acta, usuario=gente["v"], cuando=timezone.now())


def leer(path: Path):
    with PrepDbReader(path, settings=RuleSettings()) as reader:
        return reader.header, [row.acta for row in reader.rows()]


def test_export_writes_one_database_per_election_and_says_where(noche, tmp_path):
    code, out, err = run("--out", str(tmp_path / "bases"))

    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"{tmp_path / 'bases' / 'DIP.csv'}: 4 actas de DIPUTACIONES LOCALES.",
        f"{tmp_path / 'bases' / 'AYUN.csv'}: 0 actas de AYUNTAMIENTOS.",
    ]
    header, actas = leer(tmp_path / "bases" / "DIP.csv")
    assert header.election.nombre == "DIPUTACIONES LOCALES"
    assert header.summary["ACTAS_ESPERADAS"] == "6"
    assert header.summary["ACTAS_CONTABILIZADAS"] == "2"  # 5000 votes exceed; SIN ACTA
    assert [a.clave_acta for a in actas] == [
        "230085B010002",
        "230086E010002",
        "230410B010002",
        "230410S010003",
    ]
    assert not [p.name for p in (tmp_path / "bases").iterdir() if p.name.startswith(".")]


def test_the_exported_file_has_the_rows_of_the_download(noche, tmp_path):
    run("--out", str(tmp_path), "--eleccion", "DIP")
    admin = registrar_operador(
        usuario="admin", rol=Rol.ADMINISTRADOR, clave="una-clave-larga-de-prueba", catd=None
    ).user
    client = Client()
    client.force_login(admin)
    descarga = tmp_path / "descarga.csv"
    descarga.write_bytes(client.get("/coordinacion/base/DIP.csv").content)

    exportado, filas_exportadas = leer(tmp_path / "DIP.csv")
    descargado, filas_descargadas = leer(descarga)

    assert filas_exportadas == filas_descargadas
    assert len(filas_exportadas) == 4
    assert exportado.summary == descargado.summary
    assert exportado.columns == descargado.columns


def test_an_election_with_nothing_verified_exports_its_header_alone(catalogo, tmp_path):
    code, out, _ = run("--out", str(tmp_path), "--eleccion", "AYUN")

    assert code == 0
    assert out == f"{tmp_path / 'AYUN.csv'}: 0 actas de AYUNTAMIENTOS.\n"
    lines = (tmp_path / "AYUN.csv").read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ["sep=|", "AYUNTAMIENTOS"]
    # sep, name, corte, summary names and values, a blank line, the columns; no row
    assert lines[6].startswith("CLAVE_CASILLA|CLAVE_ACTA|")
    assert lines[7:] == [""]  # the writer's closing line, as in the reference file
    assert lines[4].split("|")[:2] == ["5", "0"]
    assert not (tmp_path / "DIP.csv").exists()


def test_a_replayed_election_is_named_by_its_name_and_uses_the_default_rules(eleccion, tmp_path):
    code, out, _ = run("--out", str(tmp_path))

    assert code == 0
    assert (tmp_path / "DIPUTACIONES LOCALES.csv").exists()
    assert "0 actas de DIPUTACIONES LOCALES" in out


def test_an_unknown_election_is_refused_naming_the_known_ones(catalogo, tmp_path):
    code, out, err = run("--out", str(tmp_path), "--eleccion", "GUB")

    assert (code, out) == (2, "")
    assert "no hay una elección con clave 'GUB'" in err
    assert "DIP, AYUN" in err
    assert list(tmp_path.iterdir()) == []


def test_an_empty_catalog_is_refused(db, tmp_path):
    code, _, err = run("--out", str(tmp_path))
    assert code == 2
    assert "no hay elecciones en el catálogo" in err


def test_an_out_that_is_a_file_is_refused(catalogo, tmp_path):
    archivo = tmp_path / "archivo.txt"
    archivo.write_text("no soy carpeta")

    code, _, err = run("--out", str(archivo))

    assert code == 2
    assert "es un archivo, no una carpeta" in err
    assert archivo.read_text() == "no soy carpeta"


def test_an_out_that_cannot_be_created_is_refused(catalogo, tmp_path):
    archivo = tmp_path / "archivo.txt"
    archivo.write_text("")

    code, _, err = run("--out", str(archivo / "bases"))

    assert code == 2
    assert "no se puede crear la carpeta" in err


@contextmanager
def como_usuario_comun():
    """Root writes anywhere: act as an ordinary user for the file checks."""
    root = os.geteuid() == 0
    if root:
        os.seteuid(65534)
    try:
        yield
    finally:
        if root:
            os.seteuid(0)


def test_an_out_without_write_permission_is_refused(catalogo):
    abierta = Path(tempfile.mkdtemp())
    abierta.chmod(0o755)
    cerrada = abierta / "cerrada"
    cerrada.mkdir(mode=0o555)
    try:
        with como_usuario_comun():
            code, _, err = run("--out", str(cerrada))
        assert code == 2
        assert "no tiene permiso de escritura" in err
        assert list(cerrada.iterdir()) == []
        # A folder it may not even look into, on the way: the same kind of answer.
        cerrada.chmod(0o700)
        with como_usuario_comun():
            code, _, err = run("--out", str(cerrada / "bases"))
        assert code == 2
        assert "no se puede crear la carpeta" in err and "Traceback" not in err
    finally:
        shutil.rmtree(abierta)


def test_out_is_required(catalogo):
    with pytest.raises(Exception, match="--out"):
        call_command("export")


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux's /proc")
def test_a_folder_that_refuses_new_files_is_reported_and_left_clean(catalogo):
    # /proc accepts no new files, even from root.
    code, out, err = run("--out", "/proc", "--eleccion", "DIP")

    assert (code, out) == (2, "")
    assert "no se pudo escribir el archivo" in err or "no tiene permiso" in err
