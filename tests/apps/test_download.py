"""The download of an election in a corte: database, candidacies and a LEEME of every field."""

from __future__ import annotations

import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from openprep.catalog.models import Eleccion
from openprep.catalog.package import leer_paquete
from openprep.catalog.services import importar_paquete
from openprep.core.prepdb import PrepDbReader
from openprep.core.rules import RuleSettings
from openprep.publish.corte import rule_settings_de
from openprep.publish.download import write_download

DOCS_EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "ejemplo-paquete"


@pytest.fixture
def proceso(db):
    paquete = leer_paquete(DOCS_EXAMPLE)
    importar_paquete(paquete, ahora=paquete.proceso.inicio_publicacion - timedelta(days=1))
    return paquete.proceso


def download(tmp_path, clave: str, proceso):
    eleccion = Eleccion.objects.get(clave=clave)
    hasta = proceso.inicio_publicacion + timedelta(minutes=15)
    return write_download(
        eleccion, hasta=hasta, folder=tmp_path, settings=rule_settings_de(eleccion, hasta=hasta)
    )


def read_header(tmp_path, result):
    with zipfile.ZipFile(result.path) as archive:
        path = Path(archive.extract(result.csv_name, tmp_path / "extraido"))
    with PrepDbReader(path, settings=RuleSettings()) as reader:
        return reader.header


def test_the_zip_is_named_by_the_corte_time_and_holds_three_files(tmp_path, proceso):
    result = download(tmp_path, "DIP", proceso)
    assert result.path.name == "20270606_1915_PREP_DIP.zip"
    with zipfile.ZipFile(result.path) as archive:
        assert archive.namelist() == [
            "20270606_1915_PREP_DIP.csv",
            "DIP_CANDIDATURAS_2027.csv",
            "LEEME.txt",
        ]


def test_the_database_in_the_zip_reads_back_with_every_expected_acta_counted(tmp_path, proceso):
    result = download(tmp_path, "DIP", proceso)
    header = read_header(tmp_path, result)
    assert header.election.nombre == "DIPUTACIONES LOCALES"
    assert header.summary["ACTAS_ESPERADAS"] == str(
        Eleccion.objects.get(clave="DIP").actas_esperadas.count()
    )
    assert result.database.actas == 0


def test_the_candidacies_follow_the_reference_columns(tmp_path, proceso):
    result = download(tmp_path, "DIP", proceso)
    with zipfile.ZipFile(result.path) as archive:
        lines = archive.read("DIP_CANDIDATURAS_2027.csv").decode("utf-8").splitlines()
    assert lines[0] == (
        "ID_ESTADO,ID_DISTRITO_LOCAL,PARTIDO_CI,CANDIDATURA_PROPIETARIA,CANDIDATURA_SUPLENTE"
    )
    assert "23,1,PAN,ANA LÓPEZ PECH,MARÍA CAN UC" in lines
    assert "23,2,CAND_IND_1,CARLOS NAH CEN,RAÚL PECH EK" in lines


def test_the_leeme_describes_every_column_of_the_database(tmp_path, proceso):
    result = download(tmp_path, "DIP", proceso)
    with zipfile.ZipFile(result.path) as archive:
        leeme = archive.read("LEEME.txt").decode("utf-8")
    header = read_header(tmp_path, result)
    for name in [*header.summary, *header.columns]:
        assert f"   {name}" in leeme or f", {name}" in leeme, name
    assert "Instituto Electoral" in leeme and "truncan" in leeme


def test_the_files_in_the_zip_are_compressed(tmp_path, proceso):
    result = download(tmp_path, "DIP", proceso)
    with zipfile.ZipFile(result.path) as archive:
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_DEFLATED}


def test_the_same_corte_gives_the_same_bytes(tmp_path, proceso):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = download(tmp_path / "a", "AYUN", proceso)
    second = download(tmp_path / "b", "AYUN", proceso)
    assert first.path.read_bytes() == second.path.read_bytes()
