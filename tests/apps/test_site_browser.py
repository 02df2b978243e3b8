"""The public site of a real corte, served over HTTP and read by Chromium as a visitor would.

One corte is built per module (from the documented example package, with verified actas
made through the services) and the database is emptied right after: the browser only
reads files. Playwright drives Debian's Chromium.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, connections
from django.test import override_settings
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright

from openprep.capture.services import campos_del_acta, capturar, verificar
from openprep.catalog.models import ActaEsperada
from openprep.catalog.package import leer_paquete
from openprep.catalog.services import importar_paquete
from openprep.core.model import CONTROL_FIELDS
from openprep.core.prepdb import PrepDbHeader, PrepDbReader
from openprep.core.rules import RuleSettings
from openprep.intake.models import Estado
from openprep.intake.services import digitalizar, registrar_acopio
from openprep.publish.builder import build, signing_key

# Makes pytest-django create the test database; the tests themselves only read files.
pytestmark = pytest.mark.django_db

DOCS_EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "ejemplo-paquete"
CHROMIUM = "/usr/bin/chromium"
VERIFICADAS = (0, 1, 3, 5, 6, 9)
"""Which expected actas (in id order, DIP's six then AYUN's six) are verified."""
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def acta_png(n: int) -> bytes:
    """A small, distinct, real PNG: a sheet with a coloured band and a dark border."""
    image = Image.new("RGB", (320 + 8 * n, 420), "white")
    for x in range(image.width):
        for y in range(40, 80):
            image.putpixel((x, y), (20 * n % 256, 90, 160))
    for x in range(image.width):
        image.putpixel((x, 0), (0, 0, 0))
        image.putpixel((x, image.height - 1), (0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def verificar_acta(esperada: ActaEsperada, *, n: int, image: bytes) -> None:
    """Acopio, digitalización, two agreeing captures and verification; every contender
    gets a different, consistent number of votes so a swapped column would show."""
    people = [get_user_model().objects.get_or_create(username=u)[0] for u in "abcv"]
    ahora = timezone.now() - timedelta(minutes=1)
    clave, eleccion = esperada.clave_acta, esperada.eleccion
    acta = registrar_acopio(
        eleccion=eleccion, clave_acta=clave, usuario=people[0], catd="C1", cuando=ahora
    )
    digitalizar(
        eleccion=eleccion,
        clave_acta=clave,
        usuario=people[0],
        catd="C1",
        cuando=ahora,
        origen="CATD",
        digitalizacion="ESCANER",
        tipo_documento="ACTA PREP",
        contenido=image,
    )
    campos = campos_del_acta(acta)
    votos = [c for c in campos if c not in CONTROL_FIELDS and c != "TOTAL_VOTOS_ASENTADO"]
    valores = {c: str(5 + 13 * i + 3 * n) for i, c in enumerate(votos)}
    total = sum(int(v) for v in valores.values())
    valores |= {
        "TOTAL_VOTOS_ASENTADO": str(total),
        "TOTAL_BOLETAS_SOBRANTES": "100",
        "TOTAL_PERSONAS_VOTARON": str(total),
        "TOTAL_REP_PARTIDO_CI_VOTARON": "0",
        "TOTAL_VOTOS_SACADOS": str(total),
    }
    for person in people[1:3]:
        capturar(acta=acta, usuario=person, valores=valores, cuando=ahora)
    acta.refresh_from_db()
    if acta.estado != Estado.VERIFICADA:
        verificar(acta=acta, usuario=people[3], cuando=ahora)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def serve(folder: Path) -> tuple[ThreadingHTTPServer, str]:
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/"


@pytest.fixture(scope="module")
def publicacion(tmp_path_factory, django_db_setup, django_db_blocker) -> Path:
    """A publication with one corte. The build must run outside any transaction (it opens
    its own snapshot), so the data is committed and the database flushed right after."""
    root = tmp_path_factory.mktemp("sitio")
    folder = root / "publicacion"
    name = str(connection.settings_dict["NAME"])
    assert "test" in name or "memory" in name, f"not a test database: {name}"  # it is flushed
    with (
        django_db_blocker.unblock(),
        override_settings(
            MEDIA_ROOT=root / "media",
            OPENPREP_PUBLICACION=folder,
            OPENPREP_LLAVE_CORTE=root / "llaves" / "corte",
            OPENPREP_FIRMANTE="prep@ieqroo",
        ),
    ):
        try:
            paquete = leer_paquete(DOCS_EXAMPLE)
            importar_paquete(paquete, ahora=paquete.proceso.inicio_publicacion - timedelta(days=1))
            esperadas = list(ActaEsperada.objects.order_by("id"))
            for n in VERIFICADAS:
                verificar_acta(esperadas[n], n=n, image=acta_png(n))
            build(folder, hasta=timezone.now(), key=signing_key())
        finally:
            call_command("flush", interactive=False, verbosity=0)
    return folder


@pytest.fixture(scope="module")
def corte(publicacion) -> Path:
    latest = json.loads((publicacion / "latest.json").read_text())
    return publicacion / latest["corte"]


@pytest.fixture(scope="module")
def sitio(publicacion) -> Iterator[str]:
    server, url = serve(publicacion)
    yield url
    server.shutdown()


@pytest.fixture(scope="module")
def browser(publicacion) -> Iterator[Browser]:
    # Playwright's sync API keeps an idle event loop in this thread; Django would then refuse
    # the (synchronous) per-test transaction of pytest-django, as Playwright's docs note.
    with pytest.MonkeyPatch.context() as mp, sync_playwright() as p:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()
        # Database connections opened meanwhile (pytest-django's per-test transactions)
        # belong to this context; close them, or PostgreSQL cannot drop the test database.
        connections.close_all()


@pytest.fixture
def page(browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"errores de JavaScript en el sitio: {errors}"


def base_de_datos(corte: Path, clave: str, tmp_path: Path) -> tuple[PrepDbHeader, dict[str, int]]:
    """The election's CSV from the corte's zip: its header and each contender's votes
    summed over the contabilizadas, then no registrados and nulos (a mark such as
    ILEGIBLE counts zero)."""
    archive = next((corte / "descargas").glob(f"*_PREP_{clave}.zip"))
    with zipfile.ZipFile(archive) as z:
        name = next(n for n in z.namelist() if n.endswith(f"_PREP_{clave}.csv"))
        path = Path(z.extract(name, tmp_path))
    with PrepDbReader(path, settings=RuleSettings()) as reader:
        header = reader.header
        votos = {c.clave: 0 for c in header.election.contenders}
        for row in reader.rows():
            if row.contabilizada == "1":
                a = row.acta
                for contender, valor in zip(header.election.contenders, a.votos, strict=True):
                    votos[contender.clave] += valor if isinstance(valor, int) else 0
                for columna, valor in (("NO_REGISTRADOS", a.no_registrados), ("NULOS", a.nulos)):
                    votos[columna] = votos.get(columna, 0) + (
                        valor if isinstance(valor, int) else 0
                    )
    return header, votos


def cifras(page: Page) -> dict[str, str]:
    """The summary boxes of the page: label → shown value."""
    return {
        dl.locator("dt").inner_text().strip(): dl.locator("dd").inner_text().strip()
        for dl in page.locator("main dl.cifras > div").all()
    }


def test_a_visitor_walks_from_the_front_door_to_an_acta_whose_image_matches_its_hash(
    page, sitio, corte, publicacion
):
    page.goto(sitio + "index.html")
    page.wait_for_url(f"**/{corte.parent.name}/{corte.name}/index.html")
    page.get_by_role("link", name="Ver resultados de DIPUTACIONES LOCALES").click()
    page.wait_for_url("**/DIP/index.html")
    assert page.locator("h1").inner_text() == "DIPUTACIONES LOCALES"
    page.locator("table.territorios tbody a").first.click()
    page.wait_for_url("**/DIP/distrito-*.html")
    # The first acta with an image; its image, hash and times are inside a closed «Ver».
    fila = page.locator("table.actas tbody tr", has=page.locator("details a")).first
    fila.get_by_text("Ver", exact=True).click()
    enlace = fila.get_by_role("link", name="Imagen")
    huella = fila.locator("code")
    assert enlace.is_visible() and huella.is_visible()
    url = enlace.evaluate("a => a.href")
    # Opening «Ver» shows the image itself (the site's script), loaded from that link.
    imagen = fila.locator("details img")
    assert imagen.evaluate("img => img.src") == url
    assert imagen.evaluate("async img => { await img.decode(); return img.naturalWidth; }") >= 320
    assert imagen.get_attribute("alt") == "Imagen del acta " + fila.locator("th").inner_text()
    body = page.request.get(url).body()
    assert huella.inner_text() == hashlib.sha256(body).hexdigest()
    assert body == (publicacion / "imagenes" / huella.inner_text()).read_bytes()
    assert body in {acta_png(n) for n in VERIFICADAS}


@pytest.mark.parametrize("clave", ["DIP", "AYUN"])
def test_the_election_page_shows_the_numbers_of_the_database(page, sitio, corte, clave, tmp_path):
    header, votos = base_de_datos(corte, clave, tmp_path)
    s = header.summary
    assert 0 < int(s["ACTAS_CAPTURADAS"]) < int(s["ACTAS_ESPERADAS"]), "a partial corte"
    page.goto(f"{sitio}{corte.relative_to(corte.parents[1])}/{clave}/index.html")
    assert cifras(page) == {
        "Actas esperadas": s["ACTAS_ESPERADAS"],
        "Actas capturadas": f"{s['ACTAS_CAPTURADAS']} {s['PORCENTAJE_ACTAS_CAPTURADAS']} %",
        "Actas contabilizadas": (
            f"{s['ACTAS_CONTABILIZADAS']} {s['PORCENTAJE_ACTAS_CONTABILIZADAS']} %"
        ),
        "Participación ciudadana": f"{s['PORCENTAJE_PARTICIPACION_CIUDADANA']} %",
    }
    page.get_by_text("Todas las cifras del corte").click()
    todas = {
        tr.locator("th").inner_text(): tr.locator("td").inner_text()
        for tr in page.locator("#campos-t + tbody tr, table:has(#campos-t) tbody tr").all()
    }
    assert todas == dict(s)
    filas = page.locator("table.votos tbody tr").all()
    shown = {
        tr.locator("abbr").get_attribute("title"): tr.locator("td").nth(1).inner_text()
        for tr in filas
    }
    assert list(shown) == list(votos)  # every contender in ballot order, then the others
    assert shown == {c: str(v) for c, v in votos.items()}
    assert len(set(votos.values())) == len(votos) and min(votos.values()) > 0
    total = page.locator("table.votos tfoot td").nth(1).inner_text()
    assert total == s["TOTAL_VOTOS_C_CS"]
    assert page.locator("header.corte time").inner_text() == header.corte


def test_the_site_embeds_unchanged_in_an_iframe_of_another_origin(page, sitio, corte, tmp_path):
    eleccion = f"{sitio}{corte.relative_to(corte.parents[1])}/DIP/index.html"
    (tmp_path / "anfitrion.html").write_text(
        '<!doctype html><html lang="es-MX"><meta charset="utf-8"><title>Diario</title>'
        f'<h1>Resultados del PREP</h1><iframe src="{eleccion}" title="PREP" width="900" '
        'height="700"></iframe>',
        encoding="utf-8",
    )
    server, host = serve(tmp_path)
    try:
        page.goto(host + "anfitrion.html")
        frame = page.frame_locator("iframe")
        assert frame.locator("h1").inner_text() == "DIPUTACIONES LOCALES"
        assert frame.locator("header.corte time").is_visible()
        frame.locator("table.territorios tbody a").first.click()
        child = page.main_frame.child_frames[0]
        child.wait_for_url("**/DIP/distrito-*.html")
        assert frame.locator("table.actas").count() == 1
        frame.get_by_role("navigation", name="Menú del sitio").get_by_role(
            "link", name="AYUNTAMIENTOS"
        ).click()
        child.wait_for_url("**/AYUN/index.html")
        assert frame.locator("h1").inner_text() == "AYUNTAMIENTOS"
        assert page.url == host + "anfitrion.html"  # the host page never left
    finally:
        server.shutdown()


def distinct_colours(png: bytes) -> int:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return len(image.getcolors(maxcolors=1 << 20) or [])


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["telefono", "escritorio"])
def test_the_layout_holds_at_phone_and_desktop_widths(browser, sitio, corte, viewport, tmp_path):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    raiz = f"{sitio}{corte.relative_to(corte.parents[1])}/"
    try:
        page.goto(raiz + "DIP/index.html")
        distrito = page.locator("table.territorios tbody a").first.get_attribute("href")
        for pagina in ("index.html", "DIP/index.html", f"DIP/{distrito}", "descargas.html"):
            page.goto(raiz + pagina)
            overflow = page.evaluate(
                "() => [document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert overflow[0] <= overflow[1] + 1, f"{pagina}: desborda a lo ancho {overflow}"
            shot = tmp_path / f"{pagina.replace('/', '_')}-{viewport['width']}.png"
            png = page.screenshot(path=shot)
            assert distinct_colours(png) > 8, f"{pagina}: captura casi en blanco ({shot})"
            # The corte's date and time stay on screen, even scrolled to the bottom.
            page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
            hora = page.locator("header.corte time")
            box = hora.bounding_box()
            assert hora.is_visible() and box is not None
            assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], pagina
            assert box["x"] + box["width"] <= viewport["width"], pagina
    finally:
        context.close()


def test_the_main_numbers_are_readable_without_javascript(browser, sitio, corte, tmp_path):
    header, _ = base_de_datos(corte, "DIP", tmp_path)
    s = header.summary
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{sitio}{corte.relative_to(corte.parents[1])}/DIP/index.html")
        shown = cifras(page)
        assert shown["Actas esperadas"] == s["ACTAS_ESPERADAS"]
        assert shown["Actas capturadas"].startswith(s["ACTAS_CAPTURADAS"] + " ")
        assert shown["Actas contabilizadas"].startswith(s["ACTAS_CONTABILIZADAS"] + " ")
        assert shown["Participación ciudadana"] == f"{s['PORCENTAJE_PARTICIPACION_CIUDADANA']} %"
        assert page.locator("table.votos tbody tr").count() == len(header.election.contenders) + 2
        assert page.locator("header.corte time").inner_text() == header.corte
        # The JavaScript-only search stays hidden rather than offering a dead form.
        assert not page.locator("form.ir-seccion").is_visible()
        # The front door, without JavaScript, tells the visitor where the corte is.
        page.goto(sitio + "index.html")
        assert page.get_by_role("link", name="latest.json").is_visible()
    finally:
        context.close()
