"""``openprep memoria`` end to end: logs and database rows in, HTML and CSV out (issue 5)."""

from __future__ import annotations

import csv
import gzip
import io
import subprocess
import sys
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from pathlib import Path

import pytest
from django.core.management import call_command

from openprep.difusion.models import Difusor, Entrega, Incidente, Resultado, TipoIncidente

CINCO = dt_timezone(timedelta(hours=-5))
UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/127.0"


def linea(ip, hora, ruta, estado=200, tamano=1000, dia="06"):
    return (f'{ip} - - [{dia}/Jun/2027:{hora} -0500] "GET {ruta} HTTP/1.1" {estado} {tamano} '
            f'"-" "{UA}"')  # fmt: skip


@pytest.fixture
def registros(tmp_path) -> list[Path]:
    """Two rotated logs: a quiet afternoon (outside the night), then the night itself."""
    tarde = [linea("9.9.9.9", "15:00:00", "/"), linea("9.9.9.9", "16:00:00", "/")]
    noche = [
        linea("1.1.1.1", "21:00:00", "/"),
        linea("1.1.1.1", "21:00:01", "/estilo.css", tamano=500),
        linea("2.2.2.2", "21:10:00", "/cortes/20270606_210000/index.html"),
        "línea dañada",
        linea("1.1.1.1", "22:15:00", "/cortes/20270606_220000/index.html"),
        linea("2.2.2.2", "22:16:00", "/no-existe.html", estado=404),
    ]
    viejo = tmp_path / "access.log.1.gz"
    viejo.write_bytes(gzip.compress(("\n".join(tarde) + "\n").encode()))
    nuevo = tmp_path / "access.log"
    nuevo.write_text("\n".join(noche) + "\n")
    return [nuevo, viejo]


@pytest.fixture
def entregas(db):
    diario = Difusor.objects.create(
        nombre="Diario del Sureste", protocolo="sftp", host="s.example", puerto=22, usuario="p"
    )
    radio = Difusor.objects.create(
        nombre="Radio Universidad", protocolo="ftp", host="f.example", puerto=21, usuario="p"
    )

    def entrega(difusor, corte, *, resultado, inicio, segundos, bytes_, error=""):
        return Entrega.objects.create(
            difusor=difusor,
            corte=corte,
            resultado=resultado,
            inicio=inicio,
            fin=inicio + timedelta(seconds=segundos),
            intentos=1 if resultado == Resultado.ENTREGADA else 3,
            archivos=12,
            bytes=bytes_,
            omitidos=4,
            error=error,
        )

    nueve = datetime(2027, 6, 6, 21, 0, tzinfo=CINCO)
    diez = datetime(2027, 6, 6, 22, 0, tzinfo=CINCO)
    # On time: finished within 15 minutes of the corte's time (corte ids are read in the
    # console's zone when the catalog is empty: UTC-5, below).
    entrega(diario, "20270606_210000", resultado=Resultado.ENTREGADA,
            inicio=nueve + timedelta(minutes=1), segundos=20, bytes_=5000)  # fmt: skip
    entrega(diario, "20270606_220000", resultado=Resultado.ENTREGADA,
            inicio=diez + timedelta(minutes=20), segundos=40, bytes_=3000)  # late  # fmt: skip
    entrega(radio, "20270606_210000", resultado=Resultado.FALLIDA,
            inicio=nueve + timedelta(minutes=1), segundos=90, bytes_=100,
            error="530 Login incorrect.")  # fmt: skip
    incidente = Incidente.objects.create(
        difusor=radio,
        tipo=TipoIncidente.SUSPENDIDO,
        corte="20270606_220000",
        descripcion="Tres periodos sin actualizar; se interrumpe la transmisión.",
    )
    # the date is stamped on creation; this one happened that night
    Incidente.objects.filter(pk=incidente.pk).update(fecha=diez + timedelta(minutes=30))
    return diario, radio


@pytest.fixture(autouse=True)
def zona(settings):
    settings.TIME_ZONE = "America/Cancun"  # UTC-5 all year


def leer_csv(ruta: Path) -> list[dict[str, str]]:
    with ruta.open(encoding="utf-8", newline="") as archivo:
        return list(csv.DictReader(archivo))


def memoria(*args: str) -> str:
    out = io.StringIO()
    call_command("memoria", *args, stdout=out)
    return out.getvalue()


def test_the_memoria_counts_the_logs_and_the_deliveries(tmp_path, registros, entregas):
    salida = tmp_path / "memoria"
    texto = memoria("--registros", *map(str, registros), "--out", str(salida),
                    "--desde", "2027-06-06T20:00", "--hasta", "2027-06-07")  # fmt: skip
    assert "8 líneas leídas" in texto and "1 no se pudieron leer" in texto
    assert f"{registros[0]}:4: línea dañada" in texto
    assert "Periodo: 4 visitas, 3 páginas, 5 hits, 2 visitantes únicos." in texto

    horas = leer_csv(salida / "visitas_por_hora.csv")
    assert horas == [
        {"hora": "2027-06-06T21:00:00-05:00", "visitas": "2", "paginas": "2", "hits": "3",
         "bytes": "2500", "visitantes": "2"},
        {"hora": "2027-06-06T22:00:00-05:00", "visitas": "2", "paginas": "1", "hits": "2",
         "bytes": "2000", "visitantes": "2"},
    ]  # fmt: skip

    filas = leer_csv(salida / "entregas.csv")
    assert [(f["difusor"], f["corte"], f["resultado"], f["a_tiempo"]) for f in filas] == [
        ("Diario del Sureste", "20270606_210000", "entregada", "si"),
        ("Diario del Sureste", "20270606_220000", "entregada", "no"),
        ("Radio Universidad", "20270606_210000", "fallida", "no"),
    ]
    assert filas[0]["inicio"] == "2027-06-06T21:01:00-05:00"
    assert (filas[0]["segundos"], filas[0]["bytes"], filas[0]["archivos"], filas[0]["omitidos"],
            filas[0]["intentos"]) == ("20.0", "5000", "12", "4", "1")  # fmt: skip
    assert filas[2]["error"] == "530 Login incorrect."

    difusores = {f["difusor"]: f for f in leer_csv(salida / "difusores.csv")}
    assert difusores["Diario del Sureste"] == {
        "difusor": "Diario del Sureste", "entregas_ok": "2", "entregas_fallidas": "0",
        "entregas_pendientes": "0", "bytes": "8000", "segundos_promedio": "30.0",
        "segundos_maximo": "40.0", "entregas_a_tiempo": "1", "porcentaje_a_tiempo": "50.0",
    }  # fmt: skip
    assert difusores["Radio Universidad"]["porcentaje_a_tiempo"] == "0.0"
    assert difusores["Radio Universidad"]["segundos_promedio"] == ""

    (incidente,) = leer_csv(salida / "incidentes.csv")
    assert incidente["difusor"] == "Radio Universidad"
    assert incidente["tipo"] == "suspendido"
    assert incidente["corte"] == "20270606_220000"

    html = (salida / "memoria.html").read_text(encoding="utf-8")
    assert '<td class="n" id="total-visitas">4</td>' in html
    assert '<td class="n" id="total-paginas">3</td>' in html
    assert '<td class="n" id="total-hits">5</td>' in html
    assert '<td class="n" id="total-visitantes">2</td>' in html
    assert '<span id="invalidas">1</span>' in html
    assert "<svg" in html and "<script" not in html and "<link" not in html
    assert "2027-06-06 21:00 (UTC-5)" in html
    assert "Tres periodos sin actualizar" in html and "530 Login incorrect." in html
    assert "30 minutos anteriores" in html  # the definitions travel with the numbers
    # the afternoon is the usual traffic the night is compared with: 1 hit per hour
    assert '<td class="n">1.0</td>' in html.split("Comparativo", 1)[1].split("</table>")[0]


def test_without_a_period_every_line_and_delivery_counts(tmp_path, registros, entregas):
    salida = tmp_path / "m"
    memoria("--registros", *map(str, registros), "--out", str(salida))
    horas = leer_csv(salida / "visitas_por_hora.csv")
    assert [h["hora"][11:16] for h in horas] == ["15:00", "16:00", "21:00", "22:00"]
    assert sum(int(h["hits"]) for h in horas) == 7
    assert len(leer_csv(salida / "entregas.csv")) == 3


def test_the_period_filters_the_deliveries_and_incidents(tmp_path, registros, entregas):
    salida = tmp_path / "m"
    memoria("--registros", str(registros[0]), "--out", str(salida),
            "--desde", "2027-06-06T22:00-05:00", "--hasta", "2027-06-06T23:00-05:00")  # fmt: skip
    assert [f["corte"] for f in leer_csv(salida / "entregas.csv")] == ["20270606_220000"]
    (incidente,) = leer_csv(salida / "incidentes.csv")
    assert incidente["fecha"] == "2027-06-06T22:30:00-05:00"
    memoria("--registros", str(registros[0]), "--out", str(salida), "--hasta", "2027-06-06T22:00")
    assert leer_csv(salida / "incidentes.csv") == []


@pytest.mark.parametrize(
    ("args", "mensaje"),
    [
        (["--desde", "ayer"], "'ayer' no es una fecha u hora ISO 8601"),
        (["--desde", "2027-06-07", "--hasta", "2027-06-06"], "--hasta debe ser posterior"),
        (["--plazo", "0"], "--plazo debe ser"),
    ],
)
def test_bad_options_are_refused_in_spanish(tmp_path, registros, db, capsys, args, mensaje):
    with pytest.raises(SystemExit) as salida:
        memoria("--registros", str(registros[0]), "--out", str(tmp_path / "m"), *args)
    assert salida.value.code == 2
    assert mensaje in capsys.readouterr().err


def test_a_missing_log_is_refused_without_a_traceback(tmp_path, db):
    resultado = subprocess.run(
        [sys.executable, "-m", "openprep", "memoria", "--registros", str(tmp_path / "no.log"),
         "--out", str(tmp_path / "m")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert resultado.returncode == 2
    assert "el archivo no existe" in resultado.stderr
    assert "Traceback" not in resultado.stderr
