"""Visits, pages and hits from access logs (issue 5, memoria técnica): pure, no database."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from openprep.difusion import memoria
from openprep.difusion.memoria import RegistroIlegible, contar

UA1 = "Mozilla/5.0 (X11; Linux x86_64) Firefox/127.0"
UA2 = "Mozilla/5.0 (iPhone) Safari/605.1"
REF = "https://prep.example/"


def linea(ip, hora, peticion, estado, tamano="512", agente=UA1, zona="-0500"):
    return f'{ip} - - [06/Jun/2027:{hora} {zona}] "{peticion}" {estado} {tamano} "{REF}" "{agente}"'


# Three visitors; the comments give what each line counts as.
NOCHE = [
    linea("1.1.1.1", "21:00:00", "GET / HTTP/1.1", 200),  # A: page, visit 1
    linea("1.1.1.1", "21:00:05", "GET /estilo.css HTTP/1.1", 200, "1000"),  # A: hit only
    linea("1.1.1.1", "21:05:00", "GET /index.html HTTP/1.1", 404, agente=UA2),  # B: visit 2
    linea("1.1.1.1", "21:10:00", "GET /cortes/c1/index.html HTTP/1.1", 200),  # A: page
    linea("2.2.2.2", "21:39:59", "HEAD / HTTP/1.1", 200, "-"),  # C: visit 3, not a page
    linea("1.1.1.1", "21:40:00", "GET /?desde=portada HTTP/1.1", 304),  # A: 30 min: visit 4
    linea("2.2.2.2", "22:09:58", "GET /cortes/c1/dip.html HTTP/1.1", 200),  # C: 29:59, page
    linea("1.1.1.1", "22:20:00", "POST /cortes/c1/dip.html HTTP/1.1", 200, agente=UA2),  # B: 5
]


def escribir(ruta: Path, lineas: list[str], *, comprimir: bool = False) -> Path:
    datos = ("\n".join(lineas) + "\n").encode()
    ruta.write_bytes(gzip.compress(datos) if comprimir else datos)
    return ruta


def resumen(trafico):
    return [
        (h.etiqueta, h.visitas, h.paginas, h.hits, h.bytes, h.visitantes) for h in trafico.horas
    ]


ESPERADO = [
    ("2027-06-06 21:00 (UTC-5)", 4, 3, 6, 512 * 4 + 1000, 3),
    ("2027-06-06 22:00 (UTC-5)", 1, 1, 2, 512 * 2, 2),
]


def test_visits_pages_and_hits_of_a_hand_counted_night(tmp_path):
    m = contar([escribir(tmp_path / "access.log", NOCHE)])
    assert resumen(m.periodo) == ESPERADO
    p = m.periodo
    assert (p.visitas, p.paginas, p.hits, p.visitantes) == (5, 4, 8, 3)
    assert p.bytes == 512 * 6 + 1000
    assert p.estados == ((200, 6), (304, 1), (404, 1))
    assert p.paginas_principales == (("/", 2), ("/cortes/c1/dip.html", 1),
                                     ("/cortes/c1/index.html", 1))  # fmt: skip
    assert (m.lineas, m.invalidas) == (8, 0)
    assert m.fuera.hits == 0 and m.fuera.horas == ()


def test_the_hours_are_those_of_the_logs_own_clock(tmp_path):
    lineas = [
        linea("1.1.1.1", "23:59:59", "GET / HTTP/1.1", 200, zona="+0530"),
        linea("1.1.1.1", "23:59:59", "GET / HTTP/1.1", 200, zona="-0600", agente=UA2),
    ]
    horas = contar([escribir(tmp_path / "a.log", lineas)]).periodo.horas
    # 23:00 at UTC+5:30 is 17:30 UTC; 23:00 at UTC-6 is 05:00 UTC the next day.
    assert [h.etiqueta for h in horas] == [
        "2027-06-06 23:00 (UTC+5:30)",
        "2027-06-06 23:00 (UTC-6)",
    ]
    assert horas[0].inicio == datetime(2027, 6, 6, 17, 30, tzinfo=UTC)
    assert horas[1].inicio == datetime(2027, 6, 7, 5, 0, tzinfo=UTC)


def test_rotated_and_compressed_logs_count_the_same_in_any_order(tmp_path):
    viejo = escribir(tmp_path / "access.log.1.gz", NOCHE[:4], comprimir=True)
    nuevo = escribir(tmp_path / "access.log", NOCHE[4:])
    assert resumen(contar([nuevo, viejo]).periodo) == ESPERADO
    assert resumen(contar([viejo, nuevo]).periodo) == ESPERADO


def test_logs_of_two_servers_are_merged_by_time(tmp_path):
    # Visitor A on server 1 at 21:00 and 21:45, on server 2 at 21:20: one visit, not two.
    uno = escribir(
        tmp_path / "s1.log",
        [
            linea("1.1.1.1", "21:00:00", "GET / HTTP/1.1", 200),
            linea("1.1.1.1", "21:45:00", "GET / HTTP/1.1", 200),
        ],
    )
    dos = escribir(tmp_path / "s2.log", [linea("1.1.1.1", "21:20:00", "GET / HTTP/1.1", 200)])
    assert contar([uno, dos]).periodo.visitas == 1
    assert contar([dos, uno]).periodo.visitas == 1  # fmt: skip


def test_a_compressed_log_is_recognised_by_its_content_not_its_name(tmp_path):
    ruta = escribir(tmp_path / "access.log", NOCHE, comprimir=True)
    assert resumen(contar([ruta]).periodo) == ESPERADO


def test_lines_that_do_not_parse_are_counted_and_located(tmp_path):
    lineas = [
        NOCHE[0],
        "esto no es una bitácora",
        linea("1.1.1.1", "21:00:01", "GET / HTTP/1.1", 200).replace("Jun", "Jux"),
        linea("1.1.1.1", "21:00:02", "GET / HTTP/1.1", 200).replace("-0500", "-05:00"),
        "",
        NOCHE[1],
    ]
    ruta = escribir(tmp_path / "access.log.gz", lineas, comprimir=True)
    m = contar([ruta])
    assert (m.lineas, m.invalidas, m.periodo.hits) == (6, 4, 2)
    assert [(e.archivo, e.linea) for e in m.ejemplos_invalidos] == [
        (str(ruta), 2), (str(ruta), 3), (str(ruta), 4), (str(ruta), 5)
    ]  # fmt: skip
    assert m.ejemplos_invalidos[0].texto == "esto no es una bitácora"


def test_only_the_first_bad_lines_are_kept_as_examples(tmp_path):
    m = contar([escribir(tmp_path / "a.log", ["basura"] * 50)])
    assert m.invalidas == 50
    assert len(m.ejemplos_invalidos) == memoria.EJEMPLOS_INVALIDOS


def test_a_malformed_request_is_a_hit_but_not_a_page(tmp_path):
    m = contar(
        [
            escribir(
                tmp_path / "a.log",
                [
                    linea("3.3.3.3", "21:00:00", "\\x16\\x03\\x01", 400),
                    linea("3.3.3.3", "21:00:01", "-", 400),
                ],
            )
        ]
    )
    assert (m.periodo.hits, m.periodo.paginas, m.invalidas) == (2, 0, 0)  # fmt: skip


def test_the_period_separates_the_night_from_the_usual_traffic(tmp_path):
    cinco = timezone(timedelta(hours=-5))
    m = contar(
        [escribir(tmp_path / "access.log", NOCHE)],
        desde=datetime(2027, 6, 6, 21, 30, tzinfo=cinco),
        hasta=datetime(2027, 6, 6, 22, 20, tzinfo=cinco),  # exclusive: B's POST is outside
    )
    assert (m.periodo.hits, m.periodo.visitas, m.periodo.paginas) == (3, 2, 2)
    assert (m.fuera.hits, m.fuera.visitas, m.fuera.paginas) == (5, 3, 2)
    assert m.periodo.promedio_por_hora() == (1.0, 1.0, 1.5)


def test_a_visitor_silent_past_the_pruning_horizon_still_starts_a_new_visit(tmp_path, monkeypatch):
    monkeypatch.setattr(memoria, "_PODA_CADA", 2)
    lineas = [linea("1.1.1.1", f"{h:02d}:00:00", "GET / HTTP/1.1", 200) for h in range(6)]
    lineas += [linea("9.9.9.9", f"05:{m:02d}:00", "GET / HTTP/1.1", 200) for m in range(1, 9)]
    m = contar([escribir(tmp_path / "a.log", lineas)])
    assert m.periodo.visitas == 6 + 1


def test_a_missing_or_truncated_log_is_refused_in_spanish(tmp_path):
    with pytest.raises(RegistroIlegible, match="el archivo no existe"):
        contar([tmp_path / "no-existe.log"])
    roto = tmp_path / "roto.log.gz"
    roto.write_bytes(gzip.compress(("\n".join(NOCHE * 100) + "\n").encode())[:300])
    with pytest.raises(RegistroIlegible, match="truncado o dañado") as error:
        contar([roto])
    assert str(roto) in error.value.text
