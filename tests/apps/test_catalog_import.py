"""The election package and ``openprep catalog import``: format, validation, lock, admin."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib import admin
from django.contrib.admin.sites import AdminSite
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from openprep.catalog import admin as catalog_admin
from openprep.catalog.errors import CatalogError, PackageError
from openprep.catalog.models import (
    ActaEsperada,
    CambioCatalogo,
    Candidatura,
    Casilla,
    Contendiente,
    Eleccion,
    Proceso,
)
from openprep.catalog.package import leer_paquete
from openprep.catalog.services import (
    ActaEsperadaSpec,
    election_of,
    importar_eleccion,
    importar_paquete,
)
from openprep.core import model as core
from openprep.intake.services import registrar_acopio

pytestmark = pytest.mark.django_db

ZONA = ZoneInfo("America/Cancun")
DOCS_EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "ejemplo-paquete"

CASILLA_COLUMNS = (
    "ID_ESTADO",
    "ESTADO",
    "ID_DISTRITO",
    "DISTRITO",
    "ID_MUNICIPIO",
    "MUNICIPIO",
    "SECCION",
    "TIPO_CASILLA",
    "ID_CASILLA",
    "EXT_CONTIGUA",
    "UBICACION_CASILLA",
    "LISTA_NOMINAL",
)


def casilla_row(
    seccion: int,
    tipo: str = "B",
    *,
    distrito: int = 1,
    municipio: int = 4,
    lista: int = 500,
    id_casilla: int = 1,
    ext: int = 0,
    ubicacion: int = 1,
) -> dict[str, Any]:
    return {
        "ID_ESTADO": 23,
        "ESTADO": "QUINTANA ROO",
        "ID_DISTRITO": distrito,
        "DISTRITO": f"DISTRITO {distrito}",
        "ID_MUNICIPIO": municipio,
        "MUNICIPIO": {4: "OTHÓN P. BLANCO", 5: "BENITO JUÁREZ"}[municipio],
        "SECCION": seccion,
        "TIPO_CASILLA": tipo,
        "ID_CASILLA": id_casilla,
        "EXT_CONTIGUA": ext,
        "UBICACION_CASILLA": ubicacion,
        "LISTA_NOMINAL": lista,
    }


def contender(
    clave: str, orden: int, territorio: int | str = "TODOS", eleccion: str = "DIP", nombre=""
) -> dict[str, Any]:
    return {
        "ELECCION": eleccion,
        "ID_TERRITORIO": territorio,
        "ORDEN": orden,
        "PARTIDO_CI": clave,
        "CANDIDATURA_PROPIETARIA": nombre,
        "CANDIDATURA_SUPLENTE": f"SUPLENTE DE {nombre}" if nombre else "",
    }


@dataclass
class Package:
    """A small election package, written as files by :meth:`write`; tests change one thing."""

    inicio: datetime = field(
        default_factory=lambda: (
            (timezone.now() + timedelta(days=30))
            .astimezone(ZONA)
            .replace(hour=19, minute=0, second=0, microsecond=0, tzinfo=None)
        )
    )
    proceso: dict[str, dict[str, Any]] = field(default_factory=dict)
    elecciones: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {
                "ELECCION": "DIP",
                "NOMBRE": "DIPUTACIONES LOCALES",
                "AMBITO": "distrito",
                "TIPO_ACTA": 2,
                "TIPO_ACTA_ESPECIAL": 3,
            },
            {
                "ELECCION": "AYUN",
                "NOMBRE": "AYUNTAMIENTOS",
                "AMBITO": "municipio",
                "TIPO_ACTA": 4,
                "TIPO_ACTA_ESPECIAL": "",
            },
        ]
    )
    casillas: list[dict[str, Any]] = field(
        default_factory=lambda: [
            casilla_row(85, "B", lista=483),
            casilla_row(85, "C", lista=482),
            casilla_row(86, "E", lista=310, ubicacion=2),
            casilla_row(86, "E", lista=305, ext=1, ubicacion=2),
            casilla_row(410, "B", distrito=2, municipio=5, lista=612),
            casilla_row(410, "S", distrito=2, municipio=5, lista=0),
        ]
    )
    contendientes: list[dict[str, Any]] = field(
        default_factory=lambda: [
            contender("PAN", 1, 1, nombre="ANA LÓPEZ"),
            contender("PRI", 2, 1, nombre="JUAN PÉREZ"),
            contender("MORENA", 3, 1, nombre="ROSA DZIB"),
            contender("C_PAN_PRI", 4, 1, nombre="ANA LÓPEZ"),
            contender("PAN", 1, 2, nombre="PEDRO EK"),
            contender("PRI", 2, 2, nombre="PEDRO EK"),
            contender("MORENA", 3, 2, nombre="LAURA KU"),
            contender("C_PAN_PRI", 4, 2, nombre="PEDRO EK"),
            contender("CAND_IND_1", 5, 2, nombre="CARLOS NAH"),
            contender("PAN", 1, eleccion="AYUN"),
            contender("PRI", 2, eleccion="AYUN"),
            contender("MORENA", 3, eleccion="AYUN"),
        ]
    )
    delimiter: str = ","
    sep_line: bool = False
    bom: bool = False

    def __post_init__(self) -> None:
        fin = self.inicio + timedelta(hours=24)
        defaults = {
            "instituto": {"nombre": "Instituto Electoral de Quintana Roo"},
            "entidad": {"id": 23, "nombre": "QUINTANA ROO"},
            "publicacion": {
                "zona_horaria": "America/Cancun",
                "inicio": self.inicio,
                "intervalo_minutos": 15,
                "fin": fin,
            },
            "reglas": {
                "representantes": "contendientes",
                "boletas_especial": 750,
                "etiquetas": "referencia",
            },
        }
        for table, values in self.proceso.items():
            defaults.setdefault(table, {}).update(values)
        self.proceso = defaults

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "proceso.toml").write_text(toml(self.proceso), encoding="utf-8")
        for name, rows in (
            ("casillas.csv", self.casillas),
            ("elecciones.csv", self.elecciones),
            ("contendientes.csv", self.contendientes),
        ):
            (folder / name).write_text(
                self.csv(rows), encoding="utf-8-sig" if self.bom else "utf-8"
            )
        return folder

    def csv(self, rows: list[dict[str, Any]]) -> str:
        columns = list(rows[0]) if rows else []
        lines = [f"sep={self.delimiter}"] if self.sep_line else []
        lines.append(self.delimiter.join(columns))
        lines.extend(self.delimiter.join(str(r.get(c, "")) for c in columns) for r in rows)
        return "\n".join(lines) + "\n"


def toml(sections: dict[str, dict[str, Any]]) -> str:
    lines = []
    for table, values in sections.items():
        lines.append(f"[{table}]")
        for key, value in values.items():
            if isinstance(value, str):
                lines.append(f'{key} = "{value}"')
            elif isinstance(value, datetime):
                lines.append(f"{key} = {value.isoformat()}")
            else:
                lines.append(f"{key} = {value}")
        lines.append("")
    return "\n".join(lines)


def load(package: Package, folder: Path, **kwargs: Any):
    return importar_paquete(leer_paquete(package.write(folder)), **kwargs)


def problems_of(folder: Path) -> list[tuple[str, int | None, str]]:
    with pytest.raises(PackageError) as caught:
        leer_paquete(folder)
    return [(p.archivo, p.linea, p.columna) for p in caught.value.problemas]


def messages_of(folder: Path) -> str:
    with pytest.raises(PackageError) as caught:
        leer_paquete(folder)
    return caught.value.text


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    return {
        model.__name__: sorted(model.objects.values_list())
        for model in (Proceso, Eleccion, Contendiente, Candidatura, Casilla, ActaEsperada)
    }


def admin_user(username: str = "admin"):
    return get_user_model().objects.create_superuser(username=username, password="x")


# --- a valid package ---------------------------------------------------------------------


def test_a_valid_package_becomes_the_catalog_row_by_row(tmp_path):
    package = Package()

    result = load(package, tmp_path / "p")

    assert not result.sin_cambios and not result.bloqueado
    assert {t: c.creados for t, c in result.conteos.items()} == {
        "proceso": 1,
        "CATD": 0,
        "elecciones": 2,
        "contendientes": 8,
        "candidaturas": 12,
        "casillas": 6,
        "actas esperadas": 11,
        "operadores": 0,
    }
    proceso = Proceso.objects.get()
    assert proceso.instituto == "Instituto Electoral de Quintana Roo"
    assert (proceso.id_entidad, proceso.entidad) == (23, "QUINTANA ROO")
    assert proceso.zona_horaria == "America/Cancun"
    assert proceso.inicio_publicacion == package.inicio.replace(tzinfo=ZONA)
    assert proceso.fin_publicacion - proceso.inicio_publicacion == timedelta(hours=24)
    assert proceso.intervalo_minutos == 15
    assert (proceso.representantes, proceso.boletas_especial, proceso.etiquetas) == (
        "contendientes",
        750,
        "referencia",
    )
    elecciones = Eleccion.objects.order_by("clave").values_list(
        "clave", "nombre", "ambito", "tipo_acta", "tipo_acta_especial", "zona_horaria", "proceso"
    )
    assert list(elecciones) == [
        ("AYUN", "AYUNTAMIENTOS", "municipio", "4", "", "America/Cancun", proceso.pk),
        ("DIP", "DIPUTACIONES LOCALES", "distrito", "2", "3", "America/Cancun", proceso.pk),
    ]
    dip = Eleccion.objects.get(clave="DIP")
    assert election_of(dip).columns == ("PAN", "PRI", "MORENA", "C_PAN_PRI", "CAND_IND_1")
    assert [c.tipo for c in election_of(dip).contenders] == [
        core.TipoContendiente.PARTIDO,
        core.TipoContendiente.PARTIDO,
        core.TipoContendiente.PARTIDO,
        core.TipoContendiente.COALICION,
        core.TipoContendiente.CANDIDATURA_INDEPENDIENTE,
    ]
    assert list(
        Candidatura.objects.filter(eleccion=dip, id_territorio=2)
        .order_by("contendiente__orden")
        .values_list("contendiente__clave", "propietario", "suplente")
    ) == [
        ("PAN", "PEDRO EK", "SUPLENTE DE PEDRO EK"),
        ("PRI", "PEDRO EK", "SUPLENTE DE PEDRO EK"),
        ("MORENA", "LAURA KU", "SUPLENTE DE LAURA KU"),
        ("C_PAN_PRI", "PEDRO EK", "SUPLENTE DE PEDRO EK"),
        ("CAND_IND_1", "CARLOS NAH", "SUPLENTE DE CARLOS NAH"),
    ]
    assert set(
        Candidatura.objects.filter(eleccion__clave="AYUN").values_list("id_territorio", flat=True)
    ) == {None}
    casilla = Casilla.objects.get(seccion=86, tipo="E", ext_contigua=1)
    assert (
        casilla.id_entidad,
        casilla.entidad,
        casilla.id_distrito,
        casilla.distrito,
        casilla.id_municipio,
        casilla.municipio,
        casilla.id_casilla,
        casilla.ubicacion,
        casilla.lista_nominal,
    ) == (23, "QUINTANA ROO", 1, "DISTRITO 1", 4, "OTHÓN P. BLANCO", 1, 2, 305)
    assert list(dip.actas_esperadas.values_list("clave_acta", "orden", "representantes_pp_ci")) == [
        ("230085B010002", 0, 0),
        ("230085C010002", 1, 0),
        ("230086E010002", 2, 0),
        ("230086E010102", 3, 0),
        ("230410B010002", 4, 0),
        ("230410S010003", 5, 0),
    ]
    assert list(
        ActaEsperada.objects.filter(eleccion__clave="AYUN").values_list("clave_acta", flat=True)
    ) == ["230085B010004", "230085C010004", "230086E010004", "230086E010104", "230410B010004"]


def test_the_documented_example_package_imports(tmp_path):
    paquete = leer_paquete(DOCS_EXAMPLE)

    result = importar_paquete(paquete, ahora=paquete.proceso.inicio_publicacion - timedelta(days=1))

    assert result.conteos["casillas"].creados == 6
    assert result.conteos["actas esperadas"].creados == 11
    assert Proceso.objects.get().inicio_publicacion.astimezone(ZONA).hour == 19


def test_contenders_not_registered_in_a_district_are_off_its_ballot(tmp_path):
    load(Package(), tmp_path / "p")

    no_aplica = dict(
        ActaEsperada.objects.filter(eleccion__clave="DIP").values_list(
            "casilla__id_distrito", "no_aplica"
        )
    )
    assert no_aplica == {1: ["CAND_IND_1"], 2: []}
    assert set(
        tuple(n)
        for n in ActaEsperada.objects.filter(eleccion__clave="AYUN").values_list(
            "no_aplica", flat=True
        )
    ) == {()}


def test_especial_casillas_produce_the_especial_tipo_acta_and_only_where_they_vote(tmp_path):
    load(Package(), tmp_path / "p")

    especial = Casilla.objects.get(tipo="S")
    assert especial.lista_nominal == 0
    assert list(especial.actas_esperadas.values_list("eleccion__clave", "tipo_acta")) == [
        ("DIP", "3")
    ]
    assert set(
        ActaEsperada.objects.exclude(casilla=especial).values_list("tipo_acta", flat=True)
    ) == {"2", "4"}


def test_the_representatives_column_is_loaded_when_the_package_has_it(tmp_path):
    package = Package(proceso={"reglas": {"representantes": "columna"}})
    for i, row in enumerate(package.casillas):
        row["REPRESENTANTES_PP_CI"] = i

    load(package, tmp_path / "p")

    assert list(
        ActaEsperada.objects.filter(eleccion__clave="DIP").values_list(
            "representantes_pp_ci", flat=True
        )
    ) == [0, 1, 2, 3, 4, 5]
    assert Proceso.objects.get().rule_settings().representantes == "columna"


@pytest.mark.parametrize(
    ("delimiter", "sep_line", "bom"),
    [(",", False, False), ("|", False, False), ("|", True, False), (",", True, True)],
    ids=["comma", "pipe-sniffed", "pipe-sep-line", "comma-sep-line-bom"],
)
def test_comma_and_pipe_files_with_or_without_bom_load_the_same_catalog(
    tmp_path, delimiter, sep_line, bom
):
    load(Package(delimiter=delimiter, sep_line=sep_line, bom=bom), tmp_path / "p")

    assert Casilla.objects.get(seccion=85, tipo="B").municipio == "OTHÓN P. BLANCO"
    assert ActaEsperada.objects.count() == 11
    assert Contendiente.objects.count() == 8


# --- idempotence and updates ---------------------------------------------------------


def test_importing_the_same_package_twice_changes_nothing(tmp_path):
    package = Package()
    load(package, tmp_path / "p")
    before = snapshot()

    again = load(package, tmp_path / "p")

    assert again.sin_cambios
    assert all(c.total == 0 for c in again.conteos.values())
    assert snapshot() == before
    assert not CambioCatalogo.objects.exists()


def test_a_changed_package_before_publication_updates_the_catalog(tmp_path):
    package = Package()
    load(package, tmp_path / "p")
    kept = Casilla.objects.get(seccion=85, tipo="B").pk
    changed = copy.deepcopy(package)
    changed.casillas[0]["LISTA_NOMINAL"] = 490  # updated
    del changed.casillas[3]  # removed: 86 E01 01, with its two actas
    changed.casillas.append(casilla_row(87, "B", lista=200))  # created
    changed.elecciones[0]["NOMBRE"] = "DIPUTACIONES"
    for row in changed.contendientes:  # MORENA before PRI
        row["ORDEN"] = {"PRI": 3, "MORENA": 2}.get(row["PARTIDO_CI"], row["ORDEN"])

    result = load(changed, tmp_path / "q")

    counts = {t: (c.creados, c.actualizados, c.eliminados) for t, c in result.conteos.items()}
    assert counts == {
        "proceso": (0, 0, 0),
        "CATD": (0, 0, 0),
        "elecciones": (0, 1, 0),
        "contendientes": (0, 4, 0),
        "candidaturas": (0, 0, 0),
        "casillas": (1, 1, 1),
        "actas esperadas": (2, 0, 2),
        "operadores": (0, 0, 0),
    }
    assert Casilla.objects.get(pk=kept).lista_nominal == 490
    assert not Casilla.objects.filter(seccion=86, ext_contigua=1).exists()
    dip = Eleccion.objects.get(clave="DIP")
    assert dip.nombre == "DIPUTACIONES"
    assert election_of(dip).columns == ("PAN", "MORENA", "PRI", "C_PAN_PRI", "CAND_IND_1")
    # The removed acta leaves a gap and the new one is appended: no other acta moves.
    assert list(dip.actas_esperadas.values_list("clave_acta", "orden")) == [
        ("230085B010002", 0),
        ("230085C010002", 1),
        ("230086E010002", 2),
        ("230410B010002", 4),
        ("230410S010003", 5),
        ("230087B010002", 6),
    ]
    assert not CambioCatalogo.objects.exists()
    assert load(changed, tmp_path / "q").sin_cambios


def test_reordering_casillas_renumbers_the_publication_order_as_one_change(tmp_path):
    package = Package()
    load(package, tmp_path / "p", ahora=timezone.now())
    changed = copy.deepcopy(package)
    changed.casillas.insert(1, changed.casillas.pop(4))  # 410 B moves up, second
    after = package.inicio.replace(tzinfo=ZONA) + timedelta(hours=1)

    result = load(changed, tmp_path / "q", ahora=after, forzar=True, usuario=admin_user())

    assert result.conteos["actas esperadas"].reordenados == 8
    assert result.conteos["actas esperadas"].creados == 0
    assert result.cambios_registrados == 2
    assert list(
        Eleccion.objects.get(clave="AYUN").actas_esperadas.values_list("clave_acta", "orden")
    ) == [
        ("230085B010004", 0),
        ("230410B010004", 1),
        ("230085C010004", 2),
        ("230086E010004", 3),
        ("230086E010104", 4),
    ]
    assert sorted(CambioCatalogo.objects.values_list("objeto", "accion", "despues")) == [
        ("AYUN (orden de publicación)", "reordenado", {"actas_movidas": 4}),
        ("DIP (orden de publicación)", "reordenado", {"actas_movidas": 4}),
    ]
    assert load(changed, tmp_path / "q", ahora=after).sin_cambios


def test_moving_a_contender_off_a_district_ballot_updates_its_actas(tmp_path):
    package = Package()
    load(package, tmp_path / "p")
    changed = copy.deepcopy(package)
    changed.contendientes = [
        r
        for r in changed.contendientes
        if not (r["PARTIDO_CI"] == "MORENA" and r["ID_TERRITORIO"] == 1)
    ]

    result = load(changed, tmp_path / "q")

    assert result.conteos["candidaturas"].eliminados == 1
    assert result.conteos["actas esperadas"].actualizados == 4
    assert set(
        tuple(n)
        for n in ActaEsperada.objects.filter(
            eleccion__clave="DIP", casilla__id_distrito=1
        ).values_list("no_aplica", flat=True)
    ) == {("MORENA", "CAND_IND_1")}


# --- every problem at once -----------------------------------------------------------


def test_every_problem_in_the_rows_is_reported_at_once_with_file_line_and_column(tmp_path):
    package = Package()
    package.casillas[0]["LISTA_NOMINAL"] = "-5"  # line 2
    package.casillas[1]["SECCION"] = "8S"  # line 3
    package.casillas[2]["TIPO_CASILLA"] = "X"  # line 4
    package.casillas.append(casilla_row(410, "B", distrito=2, municipio=5))  # line 8 = line 6
    package.casillas[5]["LISTA_NOMINAL"] = 750  # line 7: especial with lista nominal
    package.elecciones[1]["AMBITO"] = "estado"  # elecciones.csv line 3
    package.contendientes[2]["ELECCION"] = "GOB"  # contendientes.csv line 4
    package.contendientes[3]["ID_TERRITORIO"] = 9  # line 5: no casillas in distrito 9
    package.contendientes[6]["ORDEN"] = 2  # line 8: MORENA takes PRI's position in distrito 2
    package.contendientes.append(contender("C_PAN_PRX", 6, 2))  # line 14: unknown party PRX
    package.proceso["publicacion"]["intervalo_minutos"] = "15"  # proceso.toml, a string
    folder = package.write(tmp_path / "p")

    problems = problems_of(folder)

    assert problems == [
        ("proceso.toml", 11, "publicacion.intervalo_minutos"),
        ("elecciones.csv", 3, "AMBITO"),
        ("casillas.csv", 2, "LISTA_NOMINAL"),
        ("casillas.csv", 3, "SECCION"),
        ("casillas.csv", 4, "TIPO_CASILLA"),
        ("casillas.csv", 7, "LISTA_NOMINAL"),
        ("casillas.csv", 8, ""),
        ("contendientes.csv", 4, "ELECCION"),
        ("contendientes.csv", 5, "ID_TERRITORIO"),
        ("contendientes.csv", 8, "ORDEN"),
        ("contendientes.csv", 14, "PARTIDO_CI"),
    ]
    text = messages_of(folder)
    assert "tiene 11 errores; no se importó nada" in text
    for expected in (
        "intervalo_minutos: debe ser un número entero entre 1 y 1440, no '15'",
        "línea 2, columna LISTA_NOMINAL: no puede ser negativo (-5)",
        "línea 3, columna SECCION: '8S' no es un número entero",
        "tipo de casilla desconocido 'X'. Use B (básica)",
        "una casilla especial no tiene lista nominal, pero dice 750. Escriba 0",
        "línea 8: la casilla 230410B0100 ya está en la línea 6. Cada casilla va en una sola",
        "ámbito desconocido 'estado'. Use entidad, distrito o municipio.",
        "la elección 'GOB' no está en elecciones.csv",
        "ninguna casilla de casillas.csv está en el distrito 9",
        "la posición 2 de la boleta de DIP ya es de PRI (línea 3)",
        "la coalición C_PAN_PRX nombra partidos que DIP no tiene: PRX",
    ):
        assert expected in text
    assert not Casilla.objects.exists()


def test_registration_problems_are_reported_with_their_lines(tmp_path):
    package = Package()
    package.contendientes.append(contender("PAN", 1, 1))  # line 14: repeated
    package.contendientes.append(contender("PRI", 7, 2))  # line 15: PRI is position 2
    package.contendientes.append(contender("PAN", 1, "TODOS"))  # line 16: both ways
    package.contendientes.append(contender("MORENA", 4, "TODOS", eleccion="AYUN"))  # line 17
    package.contendientes.append(contender("NULOS", 9, "TODOS", eleccion="AYUN"))  # line 18
    package.contendientes.append(contender("PT", 5, 7, eleccion="AYUN"))  # 19: unknown municipio

    text = messages_of(package.write(tmp_path / "p"))

    assert "línea 14, columna PARTIDO_CI: PAN ya está registrado en ese territorio" in text
    assert "línea 15, columna ORDEN: PRI tiene la posición 2 en la línea 3 y 7 aquí" in text
    assert "línea 16, columna ID_TERRITORIO: PAN ya está registrado por territorio" in text
    assert "línea 17, columna PARTIDO_CI: MORENA ya está registrado en ese territorio" in text
    assert "línea 18, columna PARTIDO_CI: NULOS es una columna de la base de datos PREP" in text
    assert "línea 19, columna ID_TERRITORIO: ninguna casilla de casillas.csv está en el " in text


def test_a_territory_without_any_contender_is_reported(tmp_path):
    package = Package()
    package.contendientes = [r for r in package.contendientes if r["ID_TERRITORIO"] != 2]

    text = messages_of(package.write(tmp_path / "p"))

    assert "el distrito 2 tiene casillas pero ningún contendiente de DIP" in text


def test_missing_files_are_all_reported(tmp_path):
    folder = tmp_path / "vacia"
    folder.mkdir()

    problems = problems_of(folder)

    assert problems == [
        ("proceso.toml", None, ""),
        ("elecciones.csv", None, ""),
        ("casillas.csv", None, ""),
        ("contendientes.csv", None, ""),
    ]
    assert "falta el archivo. Agregue casillas.csv" in messages_of(folder)


def test_missing_and_duplicated_columns_are_reported_in_the_header(tmp_path):
    package = Package()
    for row in package.casillas:
        del row["UBICACION_CASILLA"]
    folder = package.write(tmp_path / "p")
    path = folder / "contendientes.csv"
    lines = path.read_text().split("\n")
    lines[0] += ",ORDEN"
    path.write_text("\n".join(line + ",9" if line and i else line for i, line in enumerate(lines)))

    problems = problems_of(folder)

    assert ("casillas.csv", 1, "UBICACION_CASILLA") in problems
    assert ("contendientes.csv", 1, "ORDEN") in problems
    text = messages_of(folder)
    assert "columna UBICACION_CASILLA: falta la columna" in text
    assert "columna ORDEN: la columna aparece dos veces en el encabezado" in text


@pytest.mark.parametrize(
    ("content", "where", "message"),
    [
        (b"sep=;\nA;B\n", ("elecciones.csv", 1, ""), "separador no admitido"),
        (
            "ELECCION,NOMBRE,AMBITO,TIPO_ACTA,TIPO_ACTA_ESPECIAL\nDIP,DIPUTACIÓN,distrito,2,3\n".encode(
                "latin-1"
            ),
            ("elecciones.csv", 2, ""),
            "no está codificado en UTF-8",
        ),
        (
            b"ELECCION,NOMBRE,AMBITO,TIPO_ACTA,TIPO_ACTA_ESPECIAL\nDIP,DIPUTACIONES,distrito,2\n",
            ("elecciones.csv", 2, ""),
            "la fila no tiene 5 campos como el encabezado",
        ),
        (b"\n", ("elecciones.csv", 1, ""), "falta la línea de encabezado"),
    ],
    ids=["unknown-separator", "latin-1", "short-row", "no-header"],
)
def test_unreadable_csv_files_are_reported_with_their_line(tmp_path, content, where, message):
    folder = Package().write(tmp_path / "p")
    (folder / "elecciones.csv").write_bytes(content)

    with pytest.raises(PackageError) as caught:
        leer_paquete(folder)

    first = caught.value.problemas[0]
    assert (first.archivo, first.linea, first.columna) == where
    assert message in first.mensaje


def test_process_settings_problems_name_the_key_and_its_line(tmp_path):
    package = Package(
        proceso={
            "publicacion": {"zona_horaria": "America/Chetumal2", "intervalo": 5},
            "reglas": {"representantes": "todos", "etiquetas": "otra"},
        }
    )
    del package.proceso["reglas"]["boletas_especial"]
    folder = package.write(tmp_path / "p")
    toml_text = (folder / "proceso.toml").read_text()
    (folder / "proceso.toml").write_text(
        toml_text.replace("fin = ", 'fin = "2020-01-01"\nX = ').replace("\nX = ", "\n#")
    )

    problems = problems_of(folder)

    assert problems == [
        ("proceso.toml", 14, "publicacion.intervalo"),
        ("proceso.toml", 9, "publicacion.zona_horaria"),
        ("proceso.toml", 12, "publicacion.fin"),
        ("proceso.toml", 17, "reglas.representantes"),
        ("proceso.toml", 16, "reglas.boletas_especial"),
        ("proceso.toml", 18, "reglas.etiquetas"),
    ]
    text = messages_of(folder)
    assert "clave desconocida. Las claves de [publicacion] son: zona_horaria, inicio" in text
    assert "zona horaria desconocida 'America/Chetumal2'" in text
    assert "no es una fecha y hora: '2020-01-01'" in text
    assert "reglas.boletas_especial: falta este valor" in text
    assert 'valor desconocido \'todos\'. Use uno de: "contendientes", "columna"' in text


def test_a_publication_longer_than_24_hours_or_ending_before_it_starts_is_refused(tmp_path):
    package = Package()
    package.proceso["publicacion"]["fin"] = package.inicio + timedelta(hours=25)
    assert "la publicación dura más de 24 horas" in messages_of(package.write(tmp_path / "a"))
    package.proceso["publicacion"]["fin"] = package.inicio - timedelta(minutes=1)
    assert "no es posterior a su inicio" in messages_of(package.write(tmp_path / "b"))


def test_a_broken_toml_file_is_reported_at_its_line(tmp_path):
    folder = Package().write(tmp_path / "p")
    (folder / "proceso.toml").write_text('[instituto]\nnombre = "IEQROO"\n[entidad\nid = 23\n')

    problems = problems_of(folder)

    assert problems[0][:2] == ("proceso.toml", 3)
    assert "no es TOML válido" in messages_of(folder)


def test_casillas_of_another_entidad_and_inconsistent_names_are_reported(tmp_path):
    package = Package()
    package.casillas[1]["ID_ESTADO"] = 4
    package.casillas[2]["DISTRITO"] = "CHETUMAL"
    package.casillas[3]["ID_MUNICIPIO"] = ""

    text = messages_of(package.write(tmp_path / "p"))

    assert "línea 3, columna ID_ESTADO: la casilla es de la entidad 4" in text
    assert "línea 4, columna DISTRITO: el distrito 1 se llama 'CHETUMAL' aquí pero " in text
    assert "línea 5, columna ID_MUNICIPIO: la celda está vacía y hay elecciones de ámbito " in text


def test_two_elections_cannot_share_a_tipo_acta(tmp_path):
    package = Package()
    package.elecciones[1]["TIPO_ACTA"] = 3

    text = messages_of(package.write(tmp_path / "p"))

    assert "elecciones.csv, línea 3, columna TIPO_ACTA: el TIPO_ACTA 3 ya es de" in text


# --- the lock after publication starts ----------------------------------------------


def locked_catalog(tmp_path: Path) -> tuple[Package, Package, datetime]:
    """A catalog imported before publication, a changed package, and a moment after the start."""
    package = Package()
    load(package, tmp_path / "p", ahora=timezone.now())
    changed = copy.deepcopy(package)
    changed.casillas[0]["LISTA_NOMINAL"] = 499
    del changed.casillas[1]
    after = package.inicio.replace(tzinfo=ZONA) + timedelta(minutes=1)
    return package, changed, after


def test_after_publication_starts_the_import_refuses_to_change_the_catalog(tmp_path):
    _, changed, after = locked_catalog(tmp_path)
    before = snapshot()

    with pytest.raises(CatalogError, match="el catálogo está bloqueado") as caught:
        load(changed, tmp_path / "q", ahora=after)

    assert "--forzar --usuario" in caught.value.text
    assert snapshot() == before


def test_after_publication_starts_the_same_package_still_imports_without_changes(tmp_path):
    package, _, after = locked_catalog(tmp_path)

    result = load(package, tmp_path / "p", ahora=after)

    assert result.sin_cambios and result.bloqueado
    assert not CambioCatalogo.objects.exists()


def test_forcing_needs_an_administrator(tmp_path):
    _, changed, after = locked_catalog(tmp_path)
    capturista = get_user_model().objects.create_user(username="capturista1")
    before = snapshot()

    with pytest.raises(CatalogError, match="requiere saber quién"):
        load(changed, tmp_path / "q", ahora=after, forzar=True)
    with pytest.raises(CatalogError, match="'capturista1' no puede cambiar el catálogo"):
        load(changed, tmp_path / "q", ahora=after, forzar=True, usuario=capturista)

    assert snapshot() == before


def test_an_administrator_forces_a_change_and_every_change_is_recorded(tmp_path):
    _, changed, after = locked_catalog(tmp_path)
    coordinador = get_user_model().objects.create_user(username="coordinador")
    coordinador.user_permissions.add(Permission.objects.get(codename="forzar_cambios"))

    result = load(
        changed, tmp_path / "q", ahora=after, forzar=True, usuario=coordinador, motivo="acuerdo 12"
    )

    assert result.bloqueado and result.cambios_registrados == 4
    assert Casilla.objects.get(seccion=85, tipo="B").lista_nominal == 499
    assert sorted(
        CambioCatalogo.objects.values_list("usuario__username", "tabla", "objeto", "accion")
    ) == [
        ("coordinador", "actas esperadas", "AYUN 230085C010004", "eliminado"),
        ("coordinador", "actas esperadas", "DIP 230085C010002", "eliminado"),
        ("coordinador", "casillas", "230085B0100", "modificado"),
        ("coordinador", "casillas", "230085C0100", "eliminado"),
    ]
    lista = CambioCatalogo.objects.get(objeto="230085B0100")
    assert (lista.antes, lista.despues) == ({"lista_nominal": 483}, {"lista_nominal": 499})
    assert lista.cuando == after and lista.motivo == "acuerdo 12"
    assert "importación del paquete" in lista.origen
    removed = CambioCatalogo.objects.get(objeto="230085C0100")
    assert removed.despues is None and removed.antes["lista_nominal"] == 482


def test_an_acta_already_registered_cannot_be_removed_even_by_force(tmp_path):
    _, changed, after = locked_catalog(tmp_path)
    administrador = admin_user()
    registrar_acopio(
        eleccion=Eleccion.objects.get(clave="DIP"),
        clave_acta="230085C010002",
        usuario=administrador,
        catd="CATD 01",
        cuando=after,
        mecanismo_traslado="F",
    )
    before = snapshot()

    with pytest.raises(CatalogError, match="ya tienen actas registradas") as caught:
        load(changed, tmp_path / "q", ahora=after, forzar=True, usuario=administrador)

    assert "SIN ACTA" in caught.value.text
    assert snapshot() == before
    assert not CambioCatalogo.objects.exists()


def test_a_package_cannot_take_the_name_of_a_replayed_election(tmp_path):
    importar_eleccion(
        election=core.Election(
            nombre="DIPUTACIONES LOCALES", contenders=(core.Contender.from_column("PAN"),)
        ),
        zona="UTC-5",
        actas=[
            ActaEsperadaSpec(
                casilla=core.Casilla(23, "QUINTANA ROO", 1, "DISTRITO 1", 999, "B", 1, 0, 1),
                lista_nominal=10,
                tipo_acta="2",
            )
        ],
    )

    with pytest.raises(CatalogError, match="no son de este proceso"):
        load(Package(), tmp_path / "p")
    assert not Proceso.objects.exists()


# --- the command ---------------------------------------------------------------------


def run_catalog(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("catalog", *args, stdout=out, stderr=err)
    except SystemExit as exit:
        return int(exit.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_the_command_imports_and_reports_per_table_in_spanish(tmp_path):
    folder = Package().write(tmp_path / "p")

    code, out, err = run_catalog("import", str(folder))

    assert (code, err) == (0, "")
    assert f"Paquete electoral de {folder} importado:" in out
    assert "  casillas: 6 creadas" in out
    assert "  contendientes: 8 creados" in out
    assert "  proceso: 1 creado" in out
    assert "  actas esperadas: 11 creadas" in out

    code, out, err = run_catalog("import", str(folder))
    assert code == 0
    assert out.startswith("Sin cambios: el catálogo ya es igual al paquete electoral")


def test_the_command_prints_every_error_in_spanish_and_exits_2(tmp_path):
    package = Package()
    package.casillas[0]["LISTA_NOMINAL"] = "mil"
    package.casillas[1]["TIPO_CASILLA"] = "Z"
    folder = package.write(tmp_path / "p")

    code, out, err = run_catalog("import", str(folder))

    assert code == 2 and out == ""
    assert err.startswith("Error: el paquete electoral tiene 2 errores; no se importó nada.")
    assert "  - casillas.csv, línea 2, columna LISTA_NOMINAL: 'mil' no es un número" in err
    assert "  - casillas.csv, línea 3, columna TIPO_CASILLA: tipo de casilla desconocido" in err
    assert "Traceback" not in err
    assert not Casilla.objects.exists()


def test_the_command_refuses_a_locked_catalog_and_forces_it_for_an_administrator(tmp_path):
    started = (timezone.now() - timedelta(minutes=5)).astimezone(ZONA)
    package = Package(inicio=started.replace(tzinfo=None, microsecond=0))
    load(package, tmp_path / "p", ahora=timezone.now() - timedelta(days=1))
    package.casillas[0]["LISTA_NOMINAL"] = 1
    folder = package.write(tmp_path / "q")
    admin_user("admin")

    code, _, err = run_catalog("import", str(folder))
    assert code == 2 and "el catálogo está bloqueado" in err

    code, _, err = run_catalog("import", str(folder), "--forzar")
    assert code == 2 and "Error: --forzar requiere saber quién hace el cambio" in err

    code, _, err = run_catalog("import", str(folder), "--forzar", "--usuario", "nadie")
    assert code == 2 and "no existe el usuario 'nadie'" in err

    code, out, err = run_catalog(
        "import", str(folder), "--forzar", "--usuario", "admin", "--motivo", "fe de erratas"
    )
    assert (code, err) == (0, "")
    assert "  casillas: 1 actualizada" in out
    assert "1 cambio quedó registrado en la bitácora de cambios al catálogo" in out
    assert CambioCatalogo.objects.get().motivo == "fe de erratas"


def test_the_openprep_program_runs_catalog_import(tmp_path):
    """The real entry point, in a fresh SQLite database of its own."""
    folder = Package().write(tmp_path / "p")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["OPENPREP_DATA_DIR"] = str(tmp_path / "var")
    command = [sys.executable, "-m", "openprep", "catalog", "import"]

    ok = subprocess.run([*command, str(folder)], env=env, capture_output=True, text=True)
    bad = subprocess.run([*command, str(tmp_path / "no")], env=env, capture_output=True, text=True)

    assert ok.returncode == 0, ok.stderr
    assert "actas esperadas: 11 creadas" in ok.stdout
    assert bad.returncode == 2
    assert "la carpeta del paquete electoral no existe" in bad.stderr
    assert "Traceback" not in bad.stderr


# --- the admin -----------------------------------------------------------------------


@pytest.mark.parametrize("model", list(catalog_admin.ADMINS))
def test_every_catalog_admin_passes_django_checks(model):
    model_admin = catalog_admin.ADMINS[model](model, AdminSite())

    assert model_admin.check() == []
    assert str(model._meta.verbose_name_plural) in {
        "procesos electorales",
        "elecciones",
        "contendientes",
        "candidaturas",
        "casillas",
        "actas esperadas",
        "cambios al catálogo",
    }


def test_the_catalog_models_are_registered_in_the_admin_site():
    registered = {model: type(model_admin) for model, model_admin in admin.site._registry.items()}

    for model, model_admin in catalog_admin.ADMINS.items():
        assert registered.get(model) is model_admin


def test_the_admin_locks_the_catalog_after_publication_starts_and_records_forced_edits(tmp_path):
    load(Package(), tmp_path / "p")
    staff = get_user_model().objects.create_user(username="staff", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename="change_casilla"))
    administrador = admin_user()
    casillas = catalog_admin.CasillaAdmin(Casilla, AdminSite())
    request = RequestFactory().get("/")

    request.user = staff
    assert casillas.has_change_permission(request)
    Proceso.objects.update(inicio_publicacion=timezone.now() - timedelta(minutes=1))
    staff = get_user_model().objects.get(pk=staff.pk)  # drop the permission cache
    request.user = staff
    assert not casillas.has_change_permission(request)
    assert (
        catalog_admin.ActaEsperadaAdmin(ActaEsperada, AdminSite()).has_change_permission(request)
        is False
    )

    request.user = administrador
    assert casillas.has_change_permission(request)
    casilla = Casilla.objects.get(seccion=85, tipo="B")
    casilla.lista_nominal = 484
    casillas.save_model(request, casilla, form=None, change=True)

    cambio = CambioCatalogo.objects.get()
    assert (cambio.usuario, cambio.tabla, cambio.objeto, cambio.accion) == (
        administrador,
        "casillas",
        "230085B0100",
        "modificado",
    )
    assert (cambio.antes, cambio.despues) == ({"lista_nominal": 483}, {"lista_nominal": 484})


# --- CATDs and drill accounts -----------------------------------------------------------

CATD_CSV = "CLAVE,NOMBRE\nCATD-01,CATD Chetumal\ncatd-02,  CATD   Cancún \n"
OPERADORES_CSV = (
    "USUARIO,ROL,CATD,CLAVE\n"
    "acopio01,acopiador,CATD-01,ruta-maya-2027-a\n"
    "captura02,Capturista,CATD-02,ruta-maya-2027-b\n"
    "jefa,administrador,,ruta-maya-2027-c\n"
)


def with_catds(package: Package) -> Package:
    for row in package.casillas:
        row["CATD"] = "CATD-01" if row["ID_DISTRITO"] == 1 else "CATD-02"
    return package


def write_accounts(
    folder: Path, *, catd: str | None = CATD_CSV, operadores: str | None = OPERADORES_CSV
) -> Path:
    if catd is not None:
        (folder / "catd.csv").write_text(catd, encoding="utf-8")
    if operadores is not None:
        (folder / "operadores.csv").write_text(operadores, encoding="utf-8")
    return folder


def test_catds_accounts_and_the_catd_of_each_casilla_are_imported(tmp_path):
    from openprep.accounts.models import CATD, Operador

    folder = write_accounts(with_catds(Package()).write(tmp_path / "p"))

    result = importar_paquete(leer_paquete(folder))

    assert result.conteos["CATD"].creados == 2
    assert result.conteos["operadores"].creados == 3
    assert list(CATD.objects.values_list("clave", "nombre")) == [
        ("CATD-01", "CATD Chetumal"),
        ("CATD-02", "CATD Cancún"),
    ]
    assert dict(Casilla.objects.values_list("seccion", "catd__clave").distinct()) == {
        85: "CATD-01",
        86: "CATD-01",
        410: "CATD-02",
    }
    cuentas = {
        o.user.username: (o.rol, o.catd.clave if o.catd else None, o.user.is_superuser)
        for o in Operador.objects.select_related("user", "catd")
    }
    assert cuentas == {
        "acopio01": ("acopiador", "CATD-01", False),
        "captura02": ("capturista", "CATD-02", False),
        "jefa": ("administrador", None, True),
    }
    user = get_user_model().objects.get(username="captura02")
    assert user.check_password("ruta-maya-2027-b")
    assert "ruta-maya" not in user.password


def test_importing_again_keeps_accounts_and_never_resets_a_password(tmp_path):
    folder = write_accounts(with_catds(Package()).write(tmp_path / "p"))
    importar_paquete(leer_paquete(folder))
    hashes = dict(get_user_model().objects.values_list("username", "password"))

    write_accounts(folder, operadores=OPERADORES_CSV.replace("2027-a", "2028-z"))
    again = importar_paquete(leer_paquete(folder))

    assert again.sin_cambios
    assert dict(get_user_model().objects.values_list("username", "password")) == hashes

    write_accounts(
        folder, operadores=OPERADORES_CSV.replace("acopiador,CATD-01", "verificador,CATD-02")
    )
    moved = importar_paquete(leer_paquete(folder))

    assert moved.conteos["operadores"].actualizados == 1
    user = get_user_model().objects.get(username="acopio01")
    assert (user.operador.rol, user.operador.catd.clave) == ("verificador", "CATD-02")
    assert user.password == hashes["acopio01"]


def test_the_command_reports_catds_and_accounts_and_then_no_changes(tmp_path):
    folder = write_accounts(with_catds(Package()).write(tmp_path / "p"))

    code, out, err = run_catalog("import", str(folder))
    assert (code, err) == (0, "")
    assert "  CATD: 2 creados" in out
    assert "  operadores: 3 creados" in out

    code, out, _ = run_catalog("import", str(folder))
    assert code == 0 and out.startswith("Sin cambios")


def test_problems_in_catds_and_accounts_are_reported_at_once_with_file_line_and_column(
    tmp_path,
):
    package = with_catds(Package())
    package.casillas[2]["CATD"] = "CATD 01"
    folder = write_accounts(
        package.write(tmp_path / "p"),
        catd="CLAVE,NOMBRE\nCATD-01,Uno\nCATD-01,Otra vez\nCATD-02,\n",
        operadores=(
            "USUARIO,ROL,CATD,CLAVE\n"
            "ana,cajera,CATD-01,ruta-maya-2027-a\n"
            "beto,capturista,,ruta-maya-2027-b\n"
            "caro,capturista,CATD-01,1234567890\n"
            "dani dos,verificador,CATD-01,ruta-maya-2027-d\n"
            "caro,acopiador,CATD-01,ruta-maya-2027-e\n"
            "eva,acopiador,CATD-01,corta\n"
        ),
    )

    assert problems_of(folder) == [
        ("casillas.csv", 4, "CATD"),
        ("catd.csv", 3, "CLAVE"),
        ("catd.csv", 4, "NOMBRE"),
        ("operadores.csv", 2, "ROL"),
        ("operadores.csv", 3, "CATD"),
        ("operadores.csv", 4, "CLAVE"),
        ("operadores.csv", 5, "USUARIO"),
        ("operadores.csv", 6, "USUARIO"),
        ("operadores.csv", 7, "CLAVE"),
    ]
    text = messages_of(folder)
    assert "operadores.csv, línea 2, columna ROL: el rol 'cajera' no existe." in text
    assert "operadores.csv, línea 4, columna CLAVE: la contraseña no es aceptable" in text
    assert (
        "operadores.csv, línea 6, columna USUARIO: el usuario caro ya está en la línea 4." in text
    )


def test_a_catd_named_but_not_defined_must_already_exist(tmp_path):
    from openprep.accounts.services import registrar_catd

    folder = with_catds(Package()).write(tmp_path / "p")
    write_accounts(
        folder,
        catd=None,
        operadores="USUARIO,ROL,CATD,CLAVE\nana,acopiador,CATD-03,ruta-maya-2027-a\n",
    )
    paquete = leer_paquete(folder)

    with pytest.raises(PackageError) as caught:
        importar_paquete(paquete)

    assert [(p.archivo, p.linea, p.columna) for p in caught.value.problemas] == [
        ("casillas.csv", 2, "CATD"),
        ("casillas.csv", 3, "CATD"),
        ("casillas.csv", 4, "CATD"),
        ("casillas.csv", 5, "CATD"),
        ("casillas.csv", 6, "CATD"),
        ("casillas.csv", 7, "CATD"),
        ("operadores.csv", 2, "CATD"),
    ]
    assert "la CATD CATD-03 no está en catd.csv ni registrada" in caught.value.text
    assert not Casilla.objects.exists() and not get_user_model().objects.exists()

    for clave in ("CATD-01", "CATD-02", "CATD-03"):
        registrar_catd(clave=clave, nombre=f"Centro {clave}")
    result = importar_paquete(paquete)
    assert result.conteos["CATD"].total == 0
    assert Casilla.objects.filter(catd__clave="CATD-02").count() == 2


def test_a_username_of_someone_who_is_not_an_operator_is_refused(tmp_path):
    get_user_model().objects.create_user(username="jefa", password="otra-clave-larga")
    folder = write_accounts(with_catds(Package()).write(tmp_path / "p"))

    with pytest.raises(PackageError) as caught:
        importar_paquete(leer_paquete(folder))

    assert [(p.archivo, p.linea, p.columna) for p in caught.value.problemas] == [
        ("operadores.csv", 4, "USUARIO")
    ]
    assert not Casilla.objects.exists()
    assert get_user_model().objects.get(username="jefa").check_password("otra-clave-larga")


def test_after_publication_starts_new_accounts_need_force_and_are_logged_without_password(
    tmp_path,
):
    package = with_catds(Package())
    folder = write_accounts(package.write(tmp_path / "p"), operadores=None)
    importar_paquete(leer_paquete(folder))
    write_accounts(folder)
    after = package.inicio.replace(tzinfo=ZONA) + timedelta(hours=1)

    with pytest.raises(CatalogError, match="bloqueado"):
        importar_paquete(leer_paquete(folder), ahora=after)
    result = importar_paquete(
        leer_paquete(folder), ahora=after, forzar=True, usuario=admin_user("root")
    )

    assert result.conteos["operadores"].creados == 3
    logged = CambioCatalogo.objects.get(tabla="operadores", objeto="captura02")
    assert logged.despues == {"rol": "capturista", "catd": "CATD-02"}
    assert "ruta-maya" not in str(list(CambioCatalogo.objects.values_list("despues", flat=True)))
