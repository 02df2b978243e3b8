"""`openprep corte build` publishes a signed corte that `openprep verify` accepts."""

from __future__ import annotations

import functools
import json
import threading
import time
import zipfile
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.db.models import F
from django.utils import timezone
from polars.testing import assert_frame_equal

from openprep.catalog.models import ActaEsperada, Eleccion
from openprep.catalog.package import leer_paquete
from openprep.catalog.services import election_of, importar_paquete, zona_horaria
from openprep.core import model as core
from openprep.core.rules import RuleSettings, contabilizar
from openprep.core.tabla import tabla_de_filas
from openprep.intake.models import Acta, Estado, Imagen
from openprep.publish import builder, lectura
from openprep.publish.builder import build, signing_key
from openprep.publish.corte import decide_corte, to_acta_record
from openprep.publish.folder import PublicationError

DOCS_EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "ejemplo-paquete"


@pytest.fixture
def publicacion(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.OPENPREP_PUBLICACION = tmp_path / "publicacion"
    settings.OPENPREP_LLAVE_CORTE = tmp_path / "llaves" / "corte"
    settings.OPENPREP_FIRMANTE = "prep@ieqroo"
    return tmp_path / "publicacion"


@pytest.fixture
def catalogo(db):
    paquete = leer_paquete(DOCS_EXAMPLE)
    importar_paquete(paquete, ahora=paquete.proceso.inicio_publicacion - timedelta(days=1))
    return paquete.proceso


def run(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command(*args, stdout=out, stderr=out)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_a_corte_is_built_signed_and_verified(publicacion, catalogo, acta_verificada, monkeypatch):
    for i, esperada in enumerate(ActaEsperada.objects.order_by("id")[:3]):
        acta_verificada(esperada, image=f"acta {i}".encode())
    clock = [timezone.now()]  # the command's clock: a loaded machine may cross a second
    monkeypatch.setattr(timezone, "now", lambda: clock[0])
    code, output = run("corte", "build")
    assert code == 0, output
    code, output = run("corte", "build")
    assert code == 2 and "ya está publicado" in output  # the same second: cortes never change
    clock[0] += timedelta(seconds=1)
    assert run("corte", "build", "--publicacion", str(publicacion))[0] == 0
    code, output = run("verify", str(publicacion))
    assert code == 0, output
    assert "Verificado" in output and output.count("consistente con las reglas") == 2
    latest = json.loads((publicacion / "latest.json").read_text())
    folder = publicacion / latest["corte"]
    zips = sorted((folder / "descargas").glob("*.zip"))
    assert [z.name.split("_PREP_")[1] for z in zips] == ["AYUN.zip", "DIP.zip"]
    images = sorted(p.name for p in (publicacion / "imagenes").iterdir())
    assert len(images) == 3
    # The site of the corte links every acta to its published image.
    assert (publicacion / "index.html").exists() and (folder / "index.html").exists()
    pages = " ".join(p.read_text() for p in (folder / "DIP").glob("distrito-*.html"))
    pages += " ".join(p.read_text() for p in (folder / "AYUN").glob("municipio-*.html"))
    assert all(
        f"../../../imagenes/{sha}" in pages or f"../../imagenes/{sha}" in pages for sha in images
    )


def test_verify_fails_on_a_tampered_database(publicacion, catalogo, acta_verificada):
    acta_verificada(ActaEsperada.objects.order_by("id").first(), image=b"acta")
    run("corte", "build")
    latest = json.loads((publicacion / "latest.json").read_text())
    archive = next((publicacion / latest["corte"] / "descargas").glob("*DIP.zip"))
    with zipfile.ZipFile(archive) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    with zipfile.ZipFile(archive, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data.replace(b"|7|", b"|8|", 1))
    code, output = run("verify", str(publicacion))
    assert code == 1
    assert "no coincide con el manifiesto" in output


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def served(publicacion):
    """The publication folder behind a real HTTP server, as a difusor serves it."""
    handler = functools.partial(QuietHandler, directory=str(publicacion))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


def test_verify_reads_a_publication_over_http_and_walks_the_chain(
    publicacion, catalogo, served, acta_verificada
):
    acta_verificada(ActaEsperada.objects.order_by("id").first(), image=b"acta")
    run("corte", "build")
    time.sleep(1.05)
    run("corte", "build")
    code, output = run("verify", served)
    assert code == 0, output
    first = sorted((publicacion / "cortes").iterdir())[0]
    (first / "manifest.json").write_bytes((first / "manifest.json").read_bytes() + b" ")
    code, output = run("verify", served)
    assert code == 1 and "la cadena se rompe" in output


def test_a_corte_time_is_published_once(publicacion, catalogo):
    hasta = timezone.now()
    build(publicacion, hasta=hasta, key=signing_key())
    with pytest.raises(PublicationError, match="ya está publicado"):
        build(publicacion, hasta=hasta, key=signing_key())


@pytest.mark.django_db(transaction=True)
def test_a_corte_built_outside_any_transaction_reads_one_snapshot(publicacion, acta_verificada):
    """As `openprep worker` runs it: the builder opens the transaction (REPEATABLE READ,
    read only, on PostgreSQL) and the corte still verifies."""
    paquete = leer_paquete(DOCS_EXAMPLE)
    importar_paquete(paquete, ahora=paquete.proceso.inicio_publicacion - timedelta(days=1))
    acta_verificada(ActaEsperada.objects.order_by("id").first(), image=b"acta")
    build(publicacion, hasta=timezone.now(), key=signing_key())
    code, output = run("verify", str(publicacion))
    assert code == 0, output


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_elections_written_in_parallel_read_the_builders_snapshot_and_give_the_same_corte(
    tmp_path, settings, monkeypatch, acta_verificada
):
    """On PostgreSQL a large corte writes each election in a forked worker that imports
    the builder's snapshot: a change committed after the snapshot stays out of the corte,
    and the corte is byte for byte the one a single process writes."""
    if connection.vendor != "postgresql":  # an ad-hoc run on SQLite: make deselects these
        pytest.skip("elections are written in parallel only on PostgreSQL")
    settings.OPENPREP_LLAVE_CORTE = tmp_path / "llaves" / "corte"
    settings.OPENPREP_FIRMANTE = "prep@ieqroo"
    paquete = leer_paquete(DOCS_EXAMPLE)
    importar_paquete(paquete, ahora=paquete.proceso.inicio_publicacion - timedelta(days=1))
    for eleccion in Eleccion.objects.all():
        for i, esperada in enumerate(eleccion.actas_esperadas.order_by("orden")[:2]):
            acta_verificada(esperada, image=f"{eleccion.clave} {i}".encode())
    changed = Acta.objects.filter(estado=Estado.VERIFICADA).order_by("id").first()
    hasta = timezone.now()
    key = signing_key()
    alone = build(tmp_path / "uno", hasta=hasta, key=key)

    monkeypatch.setattr(builder, "PARALLEL_FROM", 0)
    read_catalog = lectura.casillas

    def commit_a_change_after_the_snapshot():
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute(
                    "UPDATE intake_acta SET valores = %s WHERE id = %s",
                    [json.dumps({k: "9" for k in changed.valores}), changed.id],
                )
        finally:
            other.close()
        return read_catalog()

    monkeypatch.setattr(lectura, "casillas", commit_a_change_after_the_snapshot)
    threads = []
    write_election = builder._write_election

    def recording(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return write_election(*args, **kwargs)

    monkeypatch.setattr(builder, "_write_election", recording)
    shared = build(tmp_path / "varios", hasta=hasta, key=key)

    assert len(set(threads)) == 2 and all(t.startswith("corte") for t in threads)
    # The change is committed …
    assert set(Acta.objects.get(pk=changed.pk).valores.values()) == {"9"}
    uno = _files(tmp_path / "uno" / "cortes" / alone.corte)
    varios = _files(tmp_path / "varios" / "cortes" / shared.corte)
    assert sorted(uno) == sorted(varios)
    for name in uno:  # … and out of the corte: the same bytes, manifest and signature too
        assert uno[name] == varios[name], name


def _verificada(eleccion, esperada, *, verificada, **campos):
    clave = esperada.clave_acta if esperada else campos.pop("clave_acta")
    return Acta.objects.create(
        eleccion=eleccion,
        esperada=esperada,
        clave_acta=clave,
        estado=Estado.VERIFICADA,
        fecha_hora_verificacion=verificada,
        **campos,
    )


@pytest.mark.parametrize("zona", ["UTC-5", "America/Mexico_City"])
def test_the_corte_reads_every_kind_of_acta_exactly_as_the_model_path_does(eleccion, zona):
    """The corte's fast read (tuples, timestamps as UTC text) against the acta models
    read one by one: marks, missing figures, columns off the ballot, SIN ACTA, fuera de
    catálogo, microseconds, a daylight-saving change and an offset of odd seconds (LMT)."""
    Eleccion.objects.filter(pk=eleccion.pk).update(zona_horaria=zona)
    eleccion.refresh_from_db()
    hasta = datetime(2027, 6, 8, 2, tzinfo=UTC)
    antes_del_cambio = datetime(2022, 4, 3, 7, 59, 59, 999_999, tzinfo=UTC)  # Mexico: DST
    despues_del_cambio = datetime(2022, 4, 3, 8, 0, 30, tzinfo=UTC)
    lmt = datetime(1921, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC)  # -6:36:36 in Mexico City
    normal, ilegible, sin_acta = eleccion.actas_esperadas.order_by("orden")
    imagen = Imagen.objects.create(sha256="ab" * 32)
    _verificada(
        eleccion,
        normal,
        verificada=hasta - timedelta(hours=1),
        fecha_hora_acopio=lmt,
        fecha_hora_captura=antes_del_cambio,
        imagen=imagen,
        origen="CATD",
        digitalizacion="ESCANER",
        tipo_documento="ACTA PREP",
        mecanismo_traslado="F",
        valores={
            "PAN": "10",
            "PRI": "",
            "MORENA": "3",
            "NULOS": "1",
            "TOTAL_PERSONAS_VOTARON": "14",
        },
    )
    _verificada(
        eleccion,
        ilegible,
        verificada=despues_del_cambio,
        fecha_hora_acopio=antes_del_cambio,
        fecha_hora_captura=despues_del_cambio,
        valores={
            "PAN": "ILEGIBLE",
            "PRI": "SIN DATO",
            "MORENA": "0",
            "CAND_IND_1": "5",
            "TOTAL_VOTOS_SACADOS": "SIN DATO",
        },
    )
    _verificada(eleccion, sin_acta, verificada=hasta, motivo_sin_acta="PAQUETE_NO_ENTREGADO")
    identidad = {
        "id_entidad": 23,
        "entidad": "QUINTANA ROO",
        "id_distrito": 1,
        "distrito": "DISTRITO 1",
        "seccion": 999,
        "tipo": "B",
        "id_casilla": 1,
        "ext_contigua": 0,
        "ubicacion": 1,
        "lista_nominal": 300,
        "no_aplica": ["CAND_IND_1"],
    }
    _verificada(
        eleccion,
        None,
        clave_acta="230999B010002",
        identidad_capturada=identidad,
        verificada=hasta - timedelta(minutes=5),
        valores={"PAN": "4", "NULOS": "ILEGIBLE"},
    )
    _verificada(eleccion, None, clave_acta="230998B010002", verificada=hasta + timedelta(seconds=1))
    tz = zona_horaria(zona)
    columns = election_of(eleccion).columns
    one_by_one = [
        to_acta_record(acta, columns=columns, tz=tz)
        for acta in Acta.objects.filter(
            eleccion=eleccion, estado=Estado.VERIFICADA, fecha_hora_verificacion__lte=hasta
        )
        .select_related("esperada__casilla")
        .order_by(F("esperada__orden").asc(nulls_last=True), "id")
    ]

    settings = RuleSettings()
    election = election_of(eleccion)
    decided = decide_corte(eleccion, hasta=hasta, settings=settings)

    assert len(one_by_one) == 4 and [r.fuera_catalogo for r in one_by_one] == [0, 0, 0, 1]
    assert {core.Marca.ILEGIBLE, core.Marca.SIN_DATO, core.Marca.NO_APLICA} <= set(
        one_by_one[1].votos
    )
    assert one_by_one[0].fecha_hora_acopio == core.local_timestamp(lmt, tz=tz)
    rows = [(r, contabilizar(r, election=election, settings=settings)) for r in one_by_one]
    expected = tabla_de_filas(rows[:3], election=election)
    assert_frame_equal(decided.tabla.select(expected.columns), expected)
    assert decided.fuera == rows[3:]
    esperadas = lectura.esperadas(eleccion, casillas=lectura.casillas())
    catalog = decide_corte(eleccion, hasta=hasta, settings=settings, esperadas=esperadas)
    assert_frame_equal(catalog.tabla, decided.tabla)


def test_expected_actas_sharing_an_orden_are_published_in_the_order_their_actas_came(eleccion):
    """The catalog order is ``orden``; two expected actas with the same one are published
    by their actas' registration (their ids), whatever the expected actas' own ids."""
    primera, segunda, _ = eleccion.actas_esperadas.order_by("orden")
    ActaEsperada.objects.filter(pk__in=[primera.pk, segunda.pk]).update(orden=1)
    hasta = datetime(2027, 6, 8, 2, tzinfo=UTC)
    _verificada(eleccion, segunda, verificada=hasta, valores={"PAN": "2"})
    _verificada(eleccion, primera, verificada=hasta, valores={"PAN": "1"})

    decided = decide_corte(eleccion, hasta=hasta, settings=RuleSettings())

    assert decided.tabla.get_column("c:PAN").to_list() == ["2", "1"]
    assert decided.tabla.get_column("seccion").to_list() == [101, 100]
