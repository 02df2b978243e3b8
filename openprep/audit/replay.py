"""Replay a published PREP database through the application's own services.

The file becomes a catalog (every row's casilla an expected acta, the contenders from
its vote columns, ``-`` cells off the ballot) and then, row by row, the night the
operators lived: acopio, digitalización (the published SHA), two blind captures and a
verification, or SIN ACTA with its reason, each with the file's timestamps. A corte at
the file's stated time is then written by the same writer every corte uses. Nothing is
copied from the file's decisions: observations, CONTABILIZADA, totals and the summary
are recomputed, so a byte-identical output proves the whole chain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from openprep.capture.services import capturar, verificar
from openprep.catalog.models import Eleccion
from openprep.catalog.services import ActaEsperadaSpec, importar_eleccion
from openprep.core import model as core
from openprep.core.errors import UserError
from openprep.core.prepdb import PrepDbReader, PublishedRow
from openprep.core.rules import RuleSettings
from openprep.intake.services import digitalizar, registrar_acopio, registrar_sin_acta
from openprep.publish.corte import CorteDatabase, write_corte_database

CATD = "REPRODUCCION"
OPERATORS = (
    "reproduccion-acopio",
    "reproduccion-captura-1",
    "reproduccion-captura-2",
    "reproduccion-verificacion",
)


class ReplayError(UserError):
    """A published row the services cannot replay."""


@dataclass(frozen=True, slots=True)
class Operators:
    acopio: AbstractBaseUser
    captura_1: AbstractBaseUser
    captura_2: AbstractBaseUser
    verificacion: AbstractBaseUser


@dataclass(frozen=True, slots=True)
class ReplayResult:
    output: Path
    eleccion: Eleccion
    database: CorteDatabase


def replay_operators() -> Operators:
    """Four separate people, as the separation of roles requires; they cannot log in."""
    users = []
    for username in OPERATORS:
        user, created = get_user_model().objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save()
        users.append(user)
    return Operators(*users)


def replay(
    path: Path,
    *,
    out_dir: Path,
    settings: RuleSettings,
    progress: Callable[[int, int], None] | None = None,
) -> ReplayResult:
    """Replay ``path`` into the configured database and write its corte into ``out_dir``.

    ``progress(done, total)`` is called after each replayed row.
    """
    with PrepDbReader(path, settings=settings) as reader:
        header = reader.header
        try:
            moment, tz = core.parse_corte(header.corte)
        except ValueError:
            raise ReplayError(
                f"la fecha y hora del corte {header.corte!r} no tiene el formato "
                "AAAA/MM/DD HH:MM (UTC±H).",
                where=f"{path.name}, línea del corte",
                hint="Corrija la línea del corte.",
            ) from None
        columns = header.election.columns
        rows = 0
        specs = []
        for row in reader.rows():
            rows += 1
            if not row.acta.fuera_catalogo:
                specs.append(_spec(row, columns))
    operators = replay_operators()
    with transaction.atomic():
        eleccion = importar_eleccion(
            election=header.election, zona=core.utc_offset_name(moment.utcoffset()), actas=specs
        )
        with PrepDbReader(path, settings=settings) as reader:
            for done, row in enumerate(reader.rows(), start=1):
                _replay_row(
                    row,
                    eleccion=eleccion,
                    columns=columns,
                    operators=operators,
                    tz=tz,
                    source=path.name,
                )
                if progress is not None:
                    progress(done, rows)
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / path.name
    with open(output, "w", encoding="utf-8", newline="") as out:
        database = write_corte_database(eleccion, hasta=moment, out=out, settings=settings)
    return ReplayResult(output=output, eleccion=eleccion, database=database)


def _spec(row: PublishedRow, columns: tuple[str, ...]) -> ActaEsperadaSpec:
    acta = row.acta
    return ActaEsperadaSpec(
        casilla=acta.casilla,
        lista_nominal=acta.lista_nominal,
        tipo_acta=acta.tipo_acta,
        representantes_pp_ci=acta.representantes_pp_ci,
        no_aplica=_off_ballot(acta, columns),
    )


def _off_ballot(acta: core.ActaRecord, columns: tuple[str, ...]) -> tuple[str, ...]:
    """The contender columns published as ``-``: not on this acta's ballot."""
    return tuple(
        column
        for column, value in zip(columns, acta.votos, strict=True)
        if value is core.Marca.NO_APLICA
    )


def _captured_values(acta: core.ActaRecord, columns: tuple[str, ...]) -> dict[str, str]:
    values = {name: _text(v) for name, v in zip(core.CONTROL_FIELDS, acta.control, strict=True)}
    values.update(
        (column, _text(v))
        for column, v in zip(columns, acta.votos, strict=True)
        if v is not core.Marca.NO_APLICA
    )
    values["NO_REGISTRADOS"] = _text(acta.no_registrados)
    values["NULOS"] = _text(acta.nulos)
    values["TOTAL_VOTOS_ASENTADO"] = _text(acta.total_votos_asentado)
    return values


def _text(value: core.FieldValue) -> str:
    return str(value) if type(value) is int else core.Marca(value).value


def _replay_row(
    row: PublishedRow,
    *,
    eleccion: Eleccion,
    columns: tuple[str, ...],
    operators: Operators,
    tz: tzinfo,
    source: str,
) -> None:
    acta = row.acta
    where = f"{source}, línea {row.line}, acta {row.clave_acta}"
    try:
        acopio = _moment(acta.fecha_hora_acopio, tz=tz, where=where, column="FECHA_HORA_ACOPIO")
        captura = _moment(acta.fecha_hora_captura, tz=tz, where=where, column="FECHA_HORA_CAPTURA")
        verificacion = _moment(
            acta.fecha_hora_verificacion, tz=tz, where=where, column="FECHA_HORA_VERIFICACION"
        )
        if captura is None or verificacion is None:
            raise ReplayError(
                "el acta no tiene fecha y hora de captura y de verificación.",
                where=where,
                hint="Solo se reproducen actas verificadas.",
            )
        clave = row.clave_acta
        if acta.sin_acta is not None:
            registered = registrar_sin_acta(
                eleccion=eleccion,
                clave_acta=clave,
                motivo=acta.sin_acta,
                usuario=operators.captura_1,
                catd=CATD,
                cuando=captura,
                mecanismo_traslado=acta.mecanismo_traslado,
                origen=acta.origen,
                digitalizacion=acta.digitalizacion,
            )
            verificar(acta=registered, usuario=operators.verificacion, cuando=verificacion)
            return
        if not acta.sha:
            raise ReplayError(
                "el acta no es SIN ACTA pero no publica el SHA de su imagen.",
                where=where,
                hint="Sin imagen no hay captura que reproducir.",
            )
        identidad = _identity(acta, columns) if acta.fuera_catalogo else None
        if acopio is not None:
            registrar_acopio(
                eleccion=eleccion,
                clave_acta=clave,
                usuario=operators.acopio,
                catd=CATD,
                cuando=acopio,
                mecanismo_traslado=acta.mecanismo_traslado,
                identidad=identidad,
            )
        registered = digitalizar(
            eleccion=eleccion,
            clave_acta=clave,
            usuario=operators.acopio,
            catd=CATD,
            cuando=min(m for m in (acopio, captura) if m is not None),
            origen=acta.origen,
            digitalizacion=acta.digitalizacion,
            tipo_documento=acta.tipo_documento,
            sha256=acta.sha,
        )
        if identidad is not None and not registered.identidad_capturada:
            registered.identidad_capturada = identidad
            registered.save(update_fields=["identidad_capturada"])
        values = _captured_values(acta, columns)
        capturar(acta=registered, usuario=operators.captura_1, valores=values, cuando=captura)
        capturar(acta=registered, usuario=operators.captura_2, valores=values, cuando=captura)
        verificar(acta=registered, usuario=operators.verificacion, cuando=verificacion)
    except UserError as exc:
        if exc.where:
            raise
        raise ReplayError(exc.message, where=where, hint=exc.hint) from None


def _moment(text: str, *, tz: tzinfo, where: str, column: str) -> datetime | None:
    try:
        return core.parse_local_timestamp(text, tz=tz)
    except ValueError:
        raise ReplayError(
            f"{column} {text!r} no tiene el formato AAAA-MM-DD HH:MM:SS.",
            where=where,
            hint="Corrija la fecha y hora.",
        ) from None


def _identity(acta: core.ActaRecord, columns: tuple[str, ...]) -> dict[str, object]:
    """What an acta fuera de catálogo says about itself, kept with it."""
    casilla = acta.casilla
    return {
        "id_entidad": casilla.id_entidad,
        "entidad": casilla.entidad,
        "id_distrito": casilla.id_distrito,
        "distrito": casilla.distrito,
        "seccion": casilla.seccion,
        "tipo": casilla.tipo,
        "id_casilla": casilla.id_casilla,
        "ext_contigua": casilla.ext_contigua,
        "ubicacion": casilla.ubicacion,
        "lista_nominal": acta.lista_nominal,
        "no_aplica": list(_off_ballot(acta, columns)),
    }
