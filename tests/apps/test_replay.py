"""The byte-identical replay of a real publication, through the services only."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command

from openprep.audit.replay import replay
from openprep.capture.models import Captura
from openprep.catalog.services import CatalogError
from openprep.core.rules import RuleSettings
from openprep.intake.models import Acta, Estado, EventoActa

pytestmark = pytest.mark.django_db

# Reference layout: 7 header lines, then one row per acta.
OBSERVACIONES, CONTABILIZADA, TOTAL_CALCULADO, VERIFICACION = 43, 44, 40, 49


def rows_of(path: Path) -> list[list[str]]:
    return [line.split("|") for line in path.read_text().split("\n")[7:] if line]


def subset(reference: Path, folder: Path, *, rows: int, corte: str | None = None) -> Path:
    """The first rows of the reference database, as a file of the same name."""
    lines = reference.read_text().split("\n")
    if corte:
        lines[2] = corte
    folder.mkdir(parents=True)
    path = folder / reference.name
    path.write_text("\n".join(lines[: 7 + rows]) + "\n\n")
    return path


def test_replaying_the_reference_database_writes_it_back_byte_for_byte_through_every_step(
    reference, tmp_path
):
    result = replay(reference, out_dir=tmp_path, settings=RuleSettings())

    assert result.output == tmp_path / reference.name
    assert result.output.read_bytes() == reference.read_bytes()
    rows = rows_of(reference)
    sin_acta = sum(1 for r in rows if r[OBSERVACIONES].startswith("SIN ACTA"))
    con_acta = len(rows) - sin_acta
    assert Counter(EventoActa.objects.values_list("tipo", flat=True)) == {
        "ACOPIO": con_acta,
        "DIGITALIZACION": con_acta,
        "CAPTURA": 2 * con_acta,
        "SIN_ACTA": sin_acta,
        "VERIFICACION": len(rows),
    }
    assert Captura.objects.count() == 2 * con_acta
    assert Acta.objects.filter(estado=Estado.VERIFICADA).count() == len(rows)


def test_nobody_verifies_an_acta_they_captured_in_the_replay(reference, tmp_path):
    replay(subset(reference, tmp_path / "in", rows=40), out_dir=tmp_path, settings=RuleSettings())

    verifications = EventoActa.objects.filter(tipo="VERIFICACION").select_related("acta")
    assert verifications.count() == 40
    for evento in verifications:
        assert not evento.acta.capturas.filter(capturista=evento.usuario).exists()
        assert evento.estado_nuevo == Estado.VERIFICADA


def test_the_replay_recomputes_decisions_instead_of_copying_them(reference, tmp_path):
    honest = subset(reference, tmp_path / "honest", rows=30)
    lines = honest.read_text().split("\n")
    row = lines[7].split("|")
    assert row[CONTABILIZADA] == "1"
    row[TOTAL_CALCULADO] = "999"
    row[OBSERVACIONES] = "EXCEDE LISTA NOMINAL"
    row[CONTABILIZADA] = "0"
    lines[7] = "|".join(row)
    tampered = tmp_path / "tampered" / reference.name
    tampered.parent.mkdir()
    tampered.write_text("\n".join(lines))

    first = replay(honest, out_dir=tmp_path / "out1", settings=RuleSettings())
    first.eleccion.nombre = "ANTERIOR"
    first.eleccion.save()
    second = replay(tampered, out_dir=tmp_path / "out2", settings=RuleSettings())

    written = second.output.read_text().split("\n")
    assert written[7:] == first.output.read_text().split("\n")[7:]
    assert written[7].split("|")[TOTAL_CALCULADO] != "999"
    assert written[7].split("|")[CONTABILIZADA] == "1"


def test_a_corte_holds_only_the_actas_verified_by_its_time(reference, tmp_path):
    corte = "2019/06/03 03:00 (UTC-5)"
    earlier = subset(reference, tmp_path / "in", rows=60, corte=corte)
    rows = rows_of(earlier)
    verified_by_then = [r for r in rows if r[VERIFICACION] <= "2019-06-03 03:00:00"]
    assert 0 < len(verified_by_then) < len(rows)

    result = replay(earlier, out_dir=tmp_path / "out", settings=RuleSettings())

    assert result.database.corte == corte
    assert result.database.actas == len(verified_by_then)
    assert result.database.summary["ACTAS_REGISTRADAS"] == str(len(verified_by_then))
    assert result.database.summary["ACTAS_ESPERADAS"] == str(len(rows))
    published = [r[1] for r in rows_of(result.output)]
    assert published == [r[1] for r in verified_by_then]


def test_the_replay_command_writes_the_corte_and_reports_it_in_spanish(reference, tmp_path, capsys):
    small = subset(reference, tmp_path / "in", rows=25)

    call_command("replay", str(small), "--out", str(tmp_path / "out"))

    out = capsys.readouterr().out
    assert "25 actas registradas" in out
    assert "contabilizadas" in out
    assert (tmp_path / "out" / reference.name).exists()


def test_replaying_into_a_database_that_already_holds_the_election_is_refused(reference, tmp_path):
    small = subset(reference, tmp_path / "in", rows=5)
    replay(small, out_dir=tmp_path / "a", settings=RuleSettings())

    with pytest.raises(CatalogError, match="ya está en el catálogo"):
        replay(small, out_dir=tmp_path / "b", settings=RuleSettings())
    assert not (tmp_path / "b" / reference.name).exists()
