"""The public site of a corte: every page, number and acta checked against the reference file.

The reference database (IEQROO 2019, 2,136 actas) is read with the core's reader, each
acta decided by ``contabilizar``, and the site written into a publication-shaped folder
(``<publicación>/cortes/0012``) so that image links can be resolved to
``<publicación>/imagenes/<sha>``. Expected figures are computed here independently of
the site's code (plain sums over the rows), never with the site's own helpers.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from openprep.core.model import Marca
from openprep.core.prepdb import PrepDbReader
from openprep.core.rules import REFERENCE_LABELS, RuleSettings, contabilizar
from openprep.core.tally import SUMMARY_FIELDS, Summary
from openprep.publish.site import SiteCorte, SiteElection, SiteError, write_site
from tests.core.builders import decided, make_acta, make_casilla, make_election

REFERENCE = Path("/work/shared/reference/QROO_DIP_LOC_2019.csv")
CORTE = "2019/06/03 05:47 (UTC-5)"
INSTITUTO = "Instituto Electoral de Quintana Roo"
AVISO = "PREP: resultados preliminares, sin efectos jurídicos"
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOpenprepTestKey prep@ieqroo"
ZIP_SHA = "5" * 64

pytestmark = pytest.mark.skipif(not REFERENCE.exists(), reason="reference database missing")


def read_reference():
    settings = RuleSettings()
    with PrepDbReader(REFERENCE, settings=settings) as reader:
        header = reader.header
        rows = [
            (r.acta, contabilizar(r.acta, election=header.election, settings=settings))
            for r in reader.rows()
        ]
    return header, rows


def site_election(header, rows, **changes):
    fields = {
        "clave": "DIP",
        "nombre": header.election.nombre,
        "ambito": "distrito",
        "election": header.election,
        "summary": header.summary,
        "rows": rows,
        "download": "20190603_0547_PREP_DIP.zip",
        "download_size": 123456,
        "download_sha256": ZIP_SHA,
        "esperadas": [a.casilla for a, _ in rows if not a.fuera_catalogo],
        "settings": RuleSettings(),
    }
    fields.update(changes)
    return SiteElection(**fields)


def site_corte(*elections, **changes):
    fields = {
        "instituto": INSTITUTO,
        "entidad": "QUINTANA ROO",
        "numero": 12,
        "fecha_hora": CORTE,
        "final": True,
        "elections": elections,
        "public_key": PUBLIC_KEY,
        "principal": "prep@ieqroo",
        "history": [
            ("DIP", "2019/06/02 21:00 (UTC-5)", 120, 101),
            ("DIP", "2019/06/03 01:00 (UTC-5)", 1500, 1422),
            ("OTRA", "2019/06/03 01:00 (UTC-5)", 9, 9),
        ],
    }
    fields.update(changes)
    return SiteCorte(**fields)


@pytest.fixture(scope="module")
def reference():
    return read_reference()


@pytest.fixture(scope="module")
def site(reference, tmp_path_factory):
    header, rows = reference
    publicacion = tmp_path_factory.mktemp("pub")
    folder = publicacion / "cortes" / "0012"
    written = write_site(folder, site_corte(site_election(header, rows)))
    return folder, written


def html_pages(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.html"))


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


class Structure(HTMLParser):
    """Collects tags, links and table cells; reports unbalanced elements.

    HTML lets ``td``, ``th``, ``tr``, ``tbody`` … omit their end tags; the site uses
    that in acta tables, so they close implicitly here as in a browser.
    """

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    OPTIONAL_END = {"td", "th", "tr", "tbody", "thead", "tfoot", "li", "dt", "dd", "option"}
    CLOSES = {
        "td": {"td", "th"},
        "th": {"td", "th"},
        "tr": {"td", "th", "tr"},
        "tbody": {"td", "th", "tr", "tbody", "thead"},
        "tfoot": {"td", "th", "tr", "tbody", "thead"},
        "li": {"li"},
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.starts: list[tuple[str, dict[str, str | None]]] = []
        self.ids: Counter[str] = Counter()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.starts.append((tag, attributes))
        if "id" in attributes:
            self.ids[attributes["id"]] += 1
        if tag in self.VOID:
            return
        closes = self.CLOSES.get(tag, set())
        while self.stack and self.stack[-1] in closes:
            self.stack.pop()
        self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.starts.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        while self.stack and self.stack[-1] != tag and self.stack[-1] in self.OPTIONAL_END:
            self.stack.pop()
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> does not close <{self.stack[-1] if self.stack else ''}>")
            return
        self.stack.pop()

    def close(self):
        super().close()
        left = [t for t in self.stack if t not in self.OPTIONAL_END]
        if left:
            self.errors.append(f"never closed: {left}")


def parse(path: Path) -> Structure:
    parser = Structure()
    parser.feed(text(path))
    parser.close()
    return parser


ROW_RE = re.compile(r"<tr><th scope=row>([^<]+)<td>")
IMAGE_RE = re.compile(r'<a href="([^"]+)">Imagen</a> <code>([0-9a-f]{64})</code>')


def acta_rows(page: str) -> list[str]:
    """Each acta row's HTML (from its opening ``<tr>`` to the next)."""
    starts = [m.start() for m in ROW_RE.finditer(page)]
    return [
        page[s : (starts[i + 1] if i + 1 < len(starts) else len(page))]
        for i, s in enumerate(starts)
    ]


def vote_table(page: str) -> dict[str, str]:
    """Column → votes, from the accessible votes table of an election or territory page."""
    table = page.split('<table class="votos">', 1)[1].split("</table>", 1)[0]
    return dict(
        re.findall(
            r'<th scope="row"><abbr title="([^"]+)">[^<]*</abbr></th>'
            r'<td class="tipo">[^<]*</td><td>(\d+)</td>',
            table,
        )
    )


def legible(value) -> int:
    return value if type(value) is int else 0


# -- pages -------------------------------------------------------------------------------


def test_every_page_shows_the_institute_the_corte_and_the_preliminary_notice(site):
    folder, written = site
    pages = html_pages(folder)
    names = {p.relative_to(folder).as_posix() for p in pages}
    assert {"index.html", "descargas.html", "observaciones.html", "DIP/index.html"} <= names
    assert {f"DIP/distrito-{n}.html" for n in range(1, 16)} <= names
    assert set(folder.rglob("*")) >= set(written) and all(p.is_file() for p in written)
    for page in pages:
        html = text(page)
        assert '<html lang="es-MX">' in html, page
        assert CORTE in html and "Corte 12" in html and INSTITUTO in html, page
        assert AVISO in html, page
        assert 'href="#contenido"' in html and '<main id="contenido"' in html, page


def test_the_election_page_summary_equals_the_reference_file(site, reference):
    folder, _ = site
    header, _ = reference
    html = text(folder / "DIP" / "index.html")
    shown = dict(re.findall(r'<tr><th scope="row">([A-Z_]+)</th><td>([^<]*)</td></tr>', html))
    assert {f: shown[f] for f in SUMMARY_FIELDS} == dict(header.summary)
    cards = dict(re.findall(r"<dt>([^<]+)</dt><dd>([0-9.]+)", html))
    assert cards == {
        "Actas esperadas": "2136",
        "Actas capturadas": "2136",
        "Actas contabilizadas": "2031",
        "Participación ciudadana": "22.1523",
    }
    assert '<span class="pc">95.0842 %</span>' in html
    data = json.loads(text(folder / "DIP" / "datos.json"))
    assert data["resumen"] == dict(header.summary)


def test_votes_per_contender_equal_the_sum_over_counted_actas(site, reference):
    folder, _ = site
    header, rows = reference
    columns = header.election.columns
    expected = {c: 0 for c in (*columns, "NO_REGISTRADOS", "NULOS")}
    for acta, decision in rows:
        if decision.contabilizada:
            for column, value in zip(columns, acta.votos, strict=True):
                expected[column] += legible(value)
            expected["NO_REGISTRADOS"] += legible(acta.no_registrados)
            expected["NULOS"] += legible(acta.nulos)
    shown = vote_table(text(folder / "DIP" / "index.html"))
    assert shown == {c: str(v) for c, v in expected.items()}
    assert sum(expected.values()) == int(header.summary["TOTAL_VOTOS_C_CS"])
    data = json.loads(text(folder / "DIP" / "datos.json"))
    assert {v["columna"]: v["votos"] for v in data["votos"]} == shown
    assert {v["columna"]: v["porcentaje"] for v in data["votos"]}["MORENA"] == "25.8717"


def test_every_distrito_shows_its_own_figures_and_votes(site, reference):
    folder, _ = site
    header, rows = reference
    for distrito in range(1, 16):
        own = [(a, d) for a, d in rows if a.casilla.id_distrito == distrito]
        html = text(folder / "DIP" / f"distrito-{distrito}.html")
        cards = dict(re.findall(r"<dt>([^<]+)</dt><dd>([0-9.]+)", html))
        assert cards["Actas esperadas"] == str(len(own))
        assert cards["Actas contabilizadas"] == str(sum(d.contabilizada for _, d in own))
        morena = header.election.columns.index("MORENA")
        assert vote_table(html)["MORENA"] == str(
            sum(legible(a.votos[morena]) for a, d in own if d.contabilizada)
        )


def test_every_acta_appears_once_with_its_hash_and_a_link_to_its_image(site, reference):
    folder, _ = site
    _, rows = reference
    publicacion = folder.parent.parent
    shas = {a.casilla.clave: a.sha for a, _ in rows}
    seen: Counter[str] = Counter()
    for page in (folder / "DIP").glob("distrito-*.html"):
        for row in acta_rows(text(page)):
            clave = ROW_RE.match(row).group(1)
            seen[clave] += 1
            link = IMAGE_RE.search(row)
            if not shas[clave]:  # a package without its acta has no image
                assert link is None and "Sin imagen" in row
                continue
            href, sha = link.groups()
            assert sha == shas[clave]
            assert href == f"../../../imagenes/{sha}"
            assert (page.parent / href).resolve() == (publicacion / "imagenes" / sha).resolve()
    assert seen == Counter(a.casilla.clave for a, _ in rows)
    assert sum(1 for sha in shas.values() if not sha) < 100
    page = text(folder / "DIP" / "distrito-1.html")
    assert f'href="../../../imagenes/{shas["230085B0100"]}"' in page


def test_an_acta_row_carries_its_votes_observation_and_timestamps(site):
    folder, _ = site
    page = text(folder / "DIP" / "distrito-1.html")
    row = next(r for r in acta_rows(page) if r.startswith("<tr><th scope=row>230085C0100<"))
    cells = re.findall(r"<td>([^<]*)", row)
    assert cells[0] == "C"  # TIPO_CASILLA
    assert cells[1:4] == ["2", "11", "0"]  # PAN, PRI, PRD as in the CSV
    assert "SIN DATO" in cells and "ALGUN DATO ILEGIBLE O SIN DATO" in cells
    assert "Acopio 2019-06-03 02:46:00" in row and "<details>" in row


def test_casillas_especiales_are_shown_apart(site, reference):
    folder, _ = site
    _, rows = reference
    especiales = {a.casilla.clave: a.casilla.id_distrito for a, _ in rows if a.casilla.especial}
    assert len(especiales) == 11
    for clave, distrito in especiales.items():
        page = text(folder / "DIP" / f"distrito-{distrito}.html")
        main, apart = page.split('<section id="especiales"', 1)
        assert f"<th scope=row>{clave}<" in apart and f"<th scope=row>{clave}<" not in main


def test_the_observations_page_counts_every_kind(site, reference):
    folder, _ = site
    _, rows = reference
    html = unescape(text(folder / "observaciones.html"))
    counts = Counter(d.observacion for _, d in rows)
    for code, label in REFERENCE_LABELS.items():
        assert f'<th scope="row">{label}</th><td>{counts.get(code, 0)}</td>' in html
    assert f'<th scope="row">Sin observación</th><td>{counts[None]}</td>' in html
    assert counts[None] == 1569


def test_the_download_page_explains_hashes_and_the_signature(site):
    folder, _ = site
    html = unescape(text(folder / "descargas.html"))
    assert 'href="descargas/20190603_0547_PREP_DIP.zip"' in html
    assert "<td>123456</td>" in html and ZIP_SHA in html
    for command in ("sha256sum ARCHIVO", "shasum -a 256 ARCHIVO", "Get-FileHash"):
        assert command in html
    assert (
        "ssh-keygen -Y verify -f allowed_signers -I prep@ieqroo -n openprep-corte "
        "-s manifest.json.sig < manifest.json"
    ) in html
    assert "openprep verify" in html and PUBLIC_KEY in html


def test_the_progress_chart_spans_the_previous_cortes_of_the_election(site):
    folder, _ = site
    html = text(folder / "DIP" / "index.html")
    chart = html.split('<svg class="avance"', 1)[1].split("</svg>", 1)[0]
    assert 'role="img"' in chart and "<title>" in chart
    assert "de 2019/06/02 21:00 (UTC-5) a 2019/06/03 05:47 (UTC-5)" in chart
    assert "2136 actas capturadas y 2031 contabilizadas" in chart
    points = re.search(r'class="capturadas" points="([^"]+)"', chart).group(1).split()
    assert len(points) == 3  # two previous cortes of DIP (not OTRA's) and this one


# -- weight, links, markup, accessibility ---------------------------------------------------


def test_no_page_passes_500_kb_and_the_first_view_of_an_election_stays_under_150_kb(site):
    folder, _ = site
    for page in html_pages(folder):
        assert page.stat().st_size < 500_000, page
    first_view = sum(
        (folder / p).stat().st_size
        for p in ("DIP/index.html", "recursos/sitio.css", "recursos/sitio.js")
    )
    assert first_view <= 150_000


def test_no_link_is_absolute_and_nothing_busts_frames(site):
    folder, _ = site
    for path in folder.rglob("*"):
        if path.suffix in (".html", ".css", ".js", ".json"):
            content = text(path)
            assert "http:" not in content and "https:" not in content, path
            assert "top.location" not in content and "X-Frame-Options" not in content, path
    for page in html_pages(folder):
        for _, attrs in parse(page).starts:
            for name in ("href", "src", "action"):
                value = attrs.get(name)
                if value is not None:
                    assert not value.startswith(("/", "//")) and ":" not in value, (page, value)


def test_every_page_is_well_formed_html_with_unique_ids(site):
    folder, _ = site
    for page in html_pages(folder):
        structure = parse(page)
        assert structure.errors == [], page
        assert [i for i, n in structure.ids.items() if n > 1] == [], page


def test_tables_and_charts_carry_their_accessible_names(site):
    folder, _ = site
    for page in html_pages(folder):
        html = text(page)
        structure = parse(page)
        tables = html.count("<table")
        assert html.count("<caption") == tables, page
        for tag, attrs in structure.starts:
            if tag == "th":
                assert attrs.get("scope") in ("col", "row", "rowgroup"), (page, attrs)
            if tag == "svg":
                assert attrs.get("role") == "img" and attrs.get("aria-label"), page
            if tag == "input":
                assert f'<label for="{attrs["id"]}">' in html, page
            if tag == "div" and "tabla" in (attrs.get("class") or ""):
                assert attrs.get("tabindex") == "0" and attrs.get("aria-labelledby"), page
        assert html.count("<svg") + 1 == html.count("<title>"), page  # + the page title
    css = text(folder / "recursos" / "sitio.css")
    assert ":focus-visible" in css


def test_json_data_lets_scripts_navigate_to_any_seccion(site, reference):
    folder, _ = site
    _, rows = reference
    index = json.loads(text(folder / "DIP" / "secciones.json"))
    where = {}
    for entry in index["paginas"]:
        for first, last in entry["rangos"]:
            for seccion in range(first, last + 1):
                where[seccion] = entry["pagina"]
    assert set(where) == {a.casilla.seccion for a, _ in rows}
    assert where[85] == "distrito-1.html"
    assert 'id="s85"' in text(folder / "DIP" / "distrito-1.html")
    territory = json.loads(text(folder / "DIP" / "distrito-1.json"))
    fields = territory["campos_seccion"]
    row = next(s for s in territory["secciones"] if s[0] == "85")
    assert dict(zip(fields, row, strict=True))["ACTAS_CAPTURADAS"] == str(
        sum(1 for a, _ in rows if a.casilla.seccion == 85)
    )
    root = json.loads(text(folder / "datos.json"))
    assert root["corte"] == {"numero": 12, "fecha_hora": CORTE, "final": True}


# -- other shapes of data --------------------------------------------------------------------


def test_a_large_municipio_spreads_its_actas_over_pages_under_the_limit(tmp_path, reference):
    header, rows = reference
    # 2,136 actas in one municipio (Iztapalapa-sized), secciones kept.
    actas = [
        a._replace(casilla=a.casilla._replace(id_municipio=7, municipio="GRANDE")) for a, _ in rows
    ]
    big = decided(actas, election=header.election)
    election = site_election(header, big, ambito="municipio")
    folder = tmp_path / "cortes" / "1"
    write_site(folder, site_corte(election))
    main = folder / "DIP" / "municipio-7.html"
    parts = sorted((folder / "DIP").glob("municipio-7-*.html"))
    assert len(parts) >= 2
    seen: Counter[str] = Counter()
    for page in [main, *parts]:
        assert page.stat().st_size < 500_000, page
        assert parse(page).errors == []
        seen.update(ROW_RE.findall(text(page)))
    assert seen == Counter(a.casilla.clave for a in actas)
    index = json.loads(text(folder / "DIP" / "secciones.json"))
    for entry in index["paginas"]:
        first = entry["rangos"][0][0]
        target = text(folder / "DIP" / entry["pagina"])
        assert f'id="s{first}"' in target or f'data-s="{first}"' in target


def test_a_national_distrito_of_600_actas_fits_one_page(tmp_path, reference):
    header, rows = reference
    actas = [
        a._replace(casilla=a.casilla._replace(id_distrito=1, distrito="CANCÚN"))
        for a, _ in rows[:600]
    ]
    election = site_election(header, decided(actas, election=header.election))
    folder = tmp_path / "cortes" / "1"
    write_site(folder, site_corte(election))
    page = folder / "DIP" / "distrito-1.html"
    assert not list((folder / "DIP").glob("distrito-1-*.html"))
    assert len(ROW_RE.findall(text(page))) == 600
    assert page.stat().st_size < 500_000


def test_a_municipal_election_without_municipios_in_its_catalog_drills_down_by_distrito(tmp_path):
    election = make_election()
    actas = [
        make_acta(votes={"PAN": 10}, lista_nominal=100, sha="a" * 64),
        make_acta(
            votes={"PRI": 5},
            lista_nominal=100,
            casilla=make_casilla(id_distrito=2, seccion=90),
            sha="b" * 64,
        ),
    ]
    rows = decided(actas, election=election)
    summary = Summary(actas_esperadas=2)
    for acta, decision in rows:
        summary.add(acta, decision)
    site = SiteElection(
        clave="AYU",
        nombre="AYUNTAMIENTOS",
        ambito="municipio",
        election=election,
        summary=summary.fields(participacion=RuleSettings().participacion),
        rows=rows,
        download="AYU.zip",
        download_size=1,
        download_sha256="0" * 64,
    )
    folder = tmp_path / "c"
    write_site(folder, site_corte(site, history=[]))
    assert (folder / "AYU" / "distrito-1.html").exists()
    assert (folder / "AYU" / "distrito-2.html").exists()
    # Without the catalog's esperadas, territories show no percentage of esperadas.
    assert "Actas esperadas" not in text(folder / "AYU" / "distrito-1.html").split("<h2")[1]


def test_actas_fuera_de_catalogo_are_listed_apart_and_never_added(tmp_path):
    election = make_election()
    actas = [
        make_acta(votes={"PAN": 10}, lista_nominal=100, sha="a" * 64),
        make_acta(
            votes={"PAN": 99},
            lista_nominal=100,
            fuera_catalogo=True,
            clave_acta_capturada="230999B010002",
            casilla=make_casilla(seccion=999, id_distrito=0),
            sha="c" * 64,
        ),
    ]
    rows = decided(actas, election=election)
    summary = Summary(actas_esperadas=1)
    for acta, decision in rows:
        summary.add(acta, decision)
    site = site_election_of(election, rows, summary)
    folder = tmp_path / "c"
    write_site(folder, site_corte(site, history=[]))
    fuera = text(folder / "DIP" / "fuera-de-catalogo.html")
    assert "<th scope=row>230999B010002<" in fuera and "c" * 64 in fuera
    assert not (folder / "DIP" / "distrito-0.html").exists()
    assert vote_table(text(folder / "DIP" / "index.html"))["PAN"] == "10"
    assert "Actas fuera de catálogo (1)" in text(folder / "DIP" / "index.html")


def site_election_of(election, rows, summary):
    return SiteElection(
        clave="DIP",
        nombre="DIPUTACIONES LOCALES",
        ambito="distrito",
        election=election,
        summary=summary.fields(participacion=RuleSettings().participacion),
        rows=rows,
        download="DIP.zip",
        download_size=1,
        download_sha256="0" * 64,
    )


def test_text_from_the_data_is_escaped(tmp_path):
    election = make_election()
    acta = make_acta(votes={"PAN": 1}, lista_nominal=10, casilla=make_casilla(distrito="<b>&"))
    acta = acta._replace(fecha_hora_acopio="<script>x</script>")
    rows = decided([acta], election=election)
    summary = Summary(actas_esperadas=1)
    summary.add(*rows[0])
    folder = tmp_path / "c"
    write_site(folder, site_corte(site_election_of(election, rows, summary), history=[]))
    page = text(folder / "DIP" / "distrito-1.html")
    assert "<script>x" not in page and "&lt;script&gt;x" in page
    assert "<b>&" not in page and "&lt;b&gt;&amp;" in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"clave": "../fuera"}, "la clave no sirve como nombre de carpeta"),
        ({"clave": "descargas"}, "la clave no sirve como nombre de carpeta"),
        ({"ambito": "colonia"}, "ámbito 'colonia' desconocido"),
        ({"download": "../x.zip"}, "no es un nombre de archivo"),
        ({"summary": {"ACTAS_ESPERADAS": "1"}}, "al resumen le faltan ACTAS_REGISTRADAS"),
    ],
)
def test_bad_data_is_refused_in_spanish_before_anything_is_written(tmp_path, change, message):
    election = make_election()
    rows = decided([make_acta(votes={"PAN": 1}, lista_nominal=10)], election=election)
    summary = Summary(actas_esperadas=1)
    summary.add(*rows[0])
    site = site_election_of(election, rows, summary)
    fields = {**site.__dict__, **change}
    folder = tmp_path / "c"
    with pytest.raises(SiteError, match=re.escape(message)):
        write_site(folder, site_corte(SiteElection(**fields)))
    assert not folder.exists()


def test_an_image_hash_that_is_not_sha256_is_refused_naming_the_acta(tmp_path):
    election = make_election()
    acta = make_acta(votes={"PAN": 1}, lista_nominal=10, sha="../../etc/passwd")
    rows = decided([acta], election=election)
    summary = Summary(actas_esperadas=1)
    summary.add(*rows[0])
    folder = tmp_path / "c"
    with pytest.raises(SiteError) as error:
        write_site(folder, site_corte(site_election_of(election, rows, summary)))
    assert f"acta {acta.clave_acta}" in str(error.value) and "SHA-256" in str(error.value)
    assert not folder.exists()


def test_marks_are_written_as_the_database_writes_them(tmp_path):
    election = make_election()
    acta = make_acta(
        votes={"PAN": Marca.ILEGIBLE, "PRI": 7, "C_PAN_PRI": Marca.NO_APLICA}, lista_nominal=10
    )
    rows = decided([acta], election=election)
    summary = Summary(actas_esperadas=1)
    summary.add(*rows[0])
    folder = tmp_path / "c"
    write_site(folder, site_corte(site_election_of(election, rows, summary), history=[]))
    row = acta_rows(text(folder / "DIP" / "distrito-1.html"))[0]
    assert re.findall(r"<td>([^<]*)", row)[1:6] == ["ILEGIBLE", "7", "0", "-", "0"]
