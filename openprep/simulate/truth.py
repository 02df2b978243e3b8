"""The ground truth of a drill: what a perfect night publishes, one PREP database per election.

``DIR/verdad/<ELECCION>.csv`` is written in the reference layout by the core writer, every
expected acta registered and verified, decided by the core rules (TOTAL_VOTOS_CALCULADO,
OBSERVACIONES, CONTABILIZADA, the summary); ``openprep audit`` finds it consistent.
Each row's SHA is the SHA-256 of the acta's image, which :func:`imagen_de` renders again
from the row itself. Actas fuera de catálogo come last, written as the corte writes them
(CLAVE_CASILLA and TIPO_ACTA ``-``, the identity their key tells, lista nominal 0).

The night driver reads a truth file back with :func:`leer_verdad`.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from openprep.core import model as core
from openprep.core.prepdb import PrepDbReader, write_prepdb
from openprep.core.rules import Decision, RuleSettings, contabilizar
from openprep.core.tally import Summary
from openprep.simulate.ballots import EleccionSimulada
from openprep.simulate.geography import Territorio
from openprep.simulate.images import render_acta
from openprep.simulate.votes import Jornada, Llegada, marcar

REGLAS = RuleSettings()
"""What the package's proceso.toml states: 2 × contenders, 750 ballots, reference labels."""
TAIL = ("NO_REGISTRADOS", "NULOS", "TOTAL_VOTOS_ASENTADO")
_MARCAS = {m.value: m for m in (core.Marca.ILEGIBLE, core.Marca.SIN_DATO)}


@dataclass(frozen=True, slots=True)
class ActaVerdad:
    """One acta of the truth, as the night driver needs it."""

    clave_acta: str
    eleccion: str
    """The election's name (first line of the file), as the image prints it."""
    valores: dict[str, str]
    """Each field an operator captures, in the sheet's order: digits, ILEGIBLE or SIN DATO.
    Empty for an acta SIN ACTA."""
    sin_acta: core.MotivoSinActa | None
    fuera_catalogo: bool
    seccion: int
    mecanismo_traslado: str
    origen: str
    digitalizacion: str
    tipo_documento: str
    sha: str
    fecha_hora_acopio: datetime | None
    fecha_hora_captura: datetime | None
    fecha_hora_verificacion: datetime | None

    def imagen(self) -> bytes:
        """The acta's image; its SHA-256 is :attr:`sha`."""
        return render_acta(clave_acta=self.clave_acta, eleccion=self.eleccion, valores=self.valores)


def leer_verdad(path: Path, *, tz: tzinfo) -> Iterator[ActaVerdad]:
    """Every acta of a truth file, in its order (catalog order, fuera de catálogo last)."""
    with PrepDbReader(path, settings=REGLAS) as reader:
        nombre = reader.header.election.nombre
        columnas = reader.header.election.columns
        for row in reader.rows():
            acta = row.acta
            valores: dict[str, str] = {}
            if acta.sin_acta is None:
                valores = dict(zip(core.CONTROL_FIELDS, map(_texto, acta.control), strict=True))
                for columna, valor in zip(columnas, acta.votos, strict=True):
                    if valor is not core.Marca.NO_APLICA:
                        valores[columna] = _texto(valor)
                for campo, valor in zip(
                    TAIL, (acta.no_registrados, acta.nulos, acta.total_votos_asentado), strict=True
                ):
                    valores[campo] = _texto(valor)
            yield ActaVerdad(
                clave_acta=row.clave_acta,
                eleccion=nombre,
                valores=valores,
                sin_acta=acta.sin_acta,
                fuera_catalogo=acta.fuera_catalogo,
                seccion=acta.casilla.seccion,
                mecanismo_traslado=acta.mecanismo_traslado,
                origen=acta.origen,
                digitalizacion=acta.digitalizacion,
                tipo_documento=acta.tipo_documento,
                sha=acta.sha,
                fecha_hora_acopio=core.parse_local_timestamp(acta.fecha_hora_acopio, tz=tz),
                fecha_hora_captura=core.parse_local_timestamp(acta.fecha_hora_captura, tz=tz),
                fecha_hora_verificacion=core.parse_local_timestamp(
                    acta.fecha_hora_verificacion, tz=tz
                ),
            )


def _texto(valor: core.FieldValue) -> str:
    return str(valor) if type(valor) is int else str(valor.value)  # type: ignore[union-attr]


def _valor(texto: str) -> core.FieldValue:
    return _MARCAS.get(texto) or int(texto)


# --- writing ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResumenVerdad:
    path: Path
    actas_esperadas: int
    fuera_catalogo: int
    summary: dict[str, str]


def escribir_verdad(
    *,
    out: Path,
    eleccion: EleccionSimulada,
    territorio: Territorio,
    llegadas: Sequence[Llegada],
    jornada: Jornada,
    corte: str,
    seed: int,
    workers: int,
) -> ResumenVerdad:
    """Write ``out`` (the election's truth) and say what it holds."""
    rng = random.Random(f"{seed}:actas:{eleccion.clave}")
    election = eleccion.election
    actas: list[core.ActaRecord] = []
    imagenes: list[tuple[int, str, tuple[tuple[str, str], ...]]] = []
    esperadas = 0
    for sim, llegada in zip(territorio.casillas, llegadas, strict=True):
        tipo_acta = eleccion.tipo_acta_de(sim.casilla)
        if not tipo_acta:
            continue
        esperadas += 1
        acta, valores = _acta(
            eleccion=eleccion,
            casilla=sim.casilla,
            lista_nominal=sim.lista_nominal,
            tipo_acta=tipo_acta,
            llegada=llegada,
            jornada=jornada,
            rng=rng,
            excede=_puede_exceder(sim.casilla, sim.lista_nominal)
            and rng.random() < jornada.proporciones.excede_lista_nominal,
        )
        if valores:
            imagenes.append((len(actas), acta.clave_acta, valores))
        actas.append(acta)
    fuera = round(esperadas * jornada.proporciones.fuera_catalogo)
    for acta, valores in _fuera_de_catalogo(
        fuera, eleccion=eleccion, territorio=territorio, llegadas=llegadas, jornada=jornada, rng=rng
    ):
        imagenes.append((len(actas), acta.clave_acta, valores))
        actas.append(acta)
    for (i, _, _), sha in zip(imagenes, _shas(eleccion.nombre, imagenes, workers), strict=True):
        actas[i] = actas[i]._replace(sha=sha)
    summary = Summary(actas_esperadas=esperadas)
    decididas: list[tuple[core.ActaRecord, Decision]] = []
    for acta in actas:
        decision = contabilizar(acta, election=election, settings=REGLAS)
        summary.add(acta, decision)
        decididas.append((acta, decision))
    campos = summary.fields(participacion=REGLAS.participacion)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as f:
        write_prepdb(
            f, election=election, corte=corte, summary=campos, rows=decididas, settings=REGLAS
        )
    return ResumenVerdad(path=out, actas_esperadas=esperadas, fuera_catalogo=fuera, summary=campos)


def _puede_exceder(casilla: core.Casilla, lista_nominal: int) -> bool:
    return not casilla.especial and lista_nominal > 0


def _acta(
    *,
    eleccion: EleccionSimulada,
    casilla: core.Casilla,
    lista_nominal: int,
    tipo_acta: str,
    llegada: Llegada,
    jornada: Jornada,
    rng: random.Random,
    excede: bool,
    fuera: bool = False,
) -> tuple[core.ActaRecord, tuple[tuple[str, str], ...]]:
    """One acta and, unless it is SIN ACTA, the fields its image shows."""
    boleta = eleccion.boleta(casilla)
    motivo = None if fuera else jornada.sin_acta(llegada, rng)
    columnas = eleccion.columnas
    if motivo is not None:
        captura = llegada.paquete + timedelta(minutes=rng.randint(5, 60))
        cero = (0,) * len(core.CONTROL_FIELDS)
        record = core.ActaRecord(
            casilla=casilla,
            tipo_acta=tipo_acta,
            control=cero,
            votos=tuple(0 if c in boleta else core.Marca.NO_APLICA for c in columnas),
            no_registrados=0,
            nulos=0,
            total_votos_asentado=0,
            lista_nominal=lista_nominal,
            representantes_pp_ci=0,
            sin_acta=motivo,
            mecanismo_traslado=(
                "" if motivo is core.MotivoSinActa.CASILLA_NO_INSTALADA else llegada.mecanismo
            ),
            fecha_hora_captura=_local(captura),
            fecha_hora_verificacion=_local(captura + timedelta(minutes=rng.randint(1, 10))),
            origen="CATD",
            digitalizacion="ESCANER",
        )
        return record, ()
    numeros = jornada.votos(
        eleccion=eleccion,
        casilla=casilla,
        lista_nominal=lista_nominal,
        llegada=llegada,
        boleta=boleta,
        rng=rng,
        excede=excede,
    )
    en_boleta = [c for c in columnas if c in boleta]
    if fuera:  # captured as every column of the election: 0 where its sheet had none
        numeros.update((c, 0) for c in columnas if c not in boleta)
        en_boleta = list(columnas)
    campos_voto = [*en_boleta, "NO_REGISTRADOS", "NULOS"]
    texto = (
        {k: str(v) for k, v in numeros.items()}
        if excede
        else marcar(numeros, campos_voto=campos_voto, proporciones=jornada.proporciones, rng=rng)
    )
    movil = rng.random() < jornada.proporciones.prep_casilla
    acopio = jornada.hora_acta(llegada, movil=movil, rng=rng)
    captura = acopio + timedelta(seconds=rng.randint(120, 1800))
    verificacion = captura + timedelta(seconds=rng.randint(60, 900))
    campos = (*core.CONTROL_FIELDS, *en_boleta, *TAIL)
    record = core.ActaRecord(
        casilla=casilla,
        tipo_acta="" if fuera else tipo_acta,
        control=tuple(_valor(texto[c]) for c in core.CONTROL_FIELDS),
        votos=tuple(_valor(texto[c]) if c in en_boleta else core.Marca.NO_APLICA for c in columnas),
        no_registrados=_valor(texto["NO_REGISTRADOS"]),
        nulos=_valor(texto["NULOS"]),
        total_votos_asentado=_valor(texto["TOTAL_VOTOS_ASENTADO"]),
        lista_nominal=0 if fuera else lista_nominal,
        representantes_pp_ci=0,
        fuera_catalogo=fuera,
        mecanismo_traslado=llegada.mecanismo,
        fecha_hora_acopio=_local(acopio),
        fecha_hora_captura=_local(captura),
        fecha_hora_verificacion=_local(verificacion),
        origen="CASILLA" if movil else "CATD",
        digitalizacion="MOVIL" if movil else "ESCANER",
        tipo_documento="ACTA PREP",
        clave_acta_capturada=core.clave_acta(casilla, tipo_acta) if fuera else "",
    )
    return record, tuple((c, texto[c]) for c in campos)


def _fuera_de_catalogo(
    n: int,
    *,
    eleccion: EleccionSimulada,
    territorio: Territorio,
    llegadas: Sequence[Llegada],
    jornada: Jornada,
    rng: random.Random,
) -> Iterator[tuple[core.ActaRecord, tuple[tuple[str, str], ...]]]:
    """Actas of contiguas the catalog does not have, in secciones it has (a mislabelled
    package, a casilla added late): the key says the sección, type and number only."""
    existentes = {sim.casilla.clave for sim in territorio.casillas}
    ordinarias = [i for i, sim in enumerate(territorio.casillas) if not sim.casilla.especial]
    for _ in range(n):
        i = rng.choice(ordinarias)
        sim = territorio.casillas[i]
        id_casilla = 99
        while True:
            casilla = core.Casilla(
                id_entidad=sim.casilla.id_entidad,
                entidad="",
                id_distrito=0,
                distrito="",
                seccion=sim.casilla.seccion,
                tipo="C",
                id_casilla=id_casilla,
                ext_contigua=0,
                ubicacion=0,
            )
            if casilla.clave not in existentes:
                break
            id_casilla -= 1
        existentes.add(casilla.clave)
        plantilla = sim.casilla  # its ballot is the one on the sheet
        acta, valores = _acta(
            eleccion=eleccion,
            casilla=plantilla,
            lista_nominal=sim.lista_nominal,
            tipo_acta=eleccion.tipo_acta,
            llegada=llegadas[i],
            jornada=jornada,
            rng=rng,
            excede=False,
            fuera=True,
        )
        clave = core.clave_acta(casilla, eleccion.tipo_acta)
        yield acta._replace(casilla=casilla, clave_acta_capturada=clave), valores


def _local(momento: datetime) -> str:
    return momento.strftime(core.TIMESTAMP_FORMAT)


def _sha(trabajo: tuple[str, str, tuple[tuple[str, str], ...]]) -> str:
    clave, eleccion, valores = trabajo
    return hashlib.sha256(
        render_acta(clave_acta=clave, eleccion=eleccion, valores=dict(valores))
    ).hexdigest()


def _shas(
    nombre: str, imagenes: list[tuple[int, str, tuple[tuple[str, str], ...]]], workers: int
) -> list[str]:
    """Each image's SHA-256, in order; rendered by ``workers`` processes (1: this one)."""
    trabajos = [(clave, nombre, valores) for _, clave, valores in imagenes]
    if workers <= 1 or len(trabajos) < 2000:
        return [_sha(t) for t in trabajos]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_sha, trabajos, chunksize=500))


def workers_por_defecto() -> int:
    return max(1, len(os.sched_getaffinity(0)))
