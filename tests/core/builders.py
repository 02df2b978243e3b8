"""Builders for the core's types: every figure a test does not name is zero.

``make_acta(votes={"PAN": 120}, lista_nominal=100)`` is an ordinary acta of a básica
casilla where PAN got 120 votes and every other field holds 0. A vote value may be a
number or a :class:`Marca` (``ILEGIBLE``, ``SIN_DATO``, ``NO_APLICA`` for ``-``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from openprep.core.model import (
    ActaRecord,
    Casilla,
    Contender,
    Election,
    FieldValue,
    Marca,
    MotivoSinActa,
)
from openprep.core.rules import Decision, RuleSettings, contabilizar

PARTIES = ("PAN", "PRI", "MORENA")
COALITION = "C_PAN_PRI"
INDEPENDENT = "CAND_IND_1"
DEFAULT_CONTENDERS = (*PARTIES, COALITION, INDEPENDENT)
"""Three parties, one coalition column and one independent candidacy: on a ballot where
all of them appear, 4 contenders accredit representatives, so the allowance is 8."""


def make_election(
    contenders: Iterable[str] = DEFAULT_CONTENDERS, *, nombre: str = "DIPUTACIONES LOCALES"
) -> Election:
    return Election(nombre=nombre, contenders=tuple(Contender.from_column(c) for c in contenders))


def make_casilla(
    *,
    tipo: str = "B",
    seccion: int = 85,
    id_casilla: int = 1,
    ext_contigua: int = 0,
    id_entidad: int = 23,
    entidad: str = "QUINTANA ROO",
    id_distrito: int = 1,
    distrito: str | None = None,
    id_municipio: int | None = None,
    municipio: str = "",
    ubicacion: int = 1,
) -> Casilla:
    return Casilla(
        id_entidad=id_entidad,
        entidad=entidad,
        id_distrito=id_distrito,
        distrito=f"DISTRITO {id_distrito}" if distrito is None else distrito,
        seccion=seccion,
        tipo=tipo,
        id_casilla=id_casilla,
        ext_contigua=ext_contigua,
        ubicacion=ubicacion,
        id_municipio=id_municipio,
        municipio=municipio,
    )


def make_acta(
    *,
    election: Election | None = None,
    votes: Mapping[str, FieldValue] | None = None,
    fill: FieldValue = 0,
    no_registrados: FieldValue = 0,
    nulos: FieldValue = 0,
    lista_nominal: int = 0,
    representantes: int = 0,
    casilla: Casilla | None = None,
    tipo_acta: str | None = None,
    control: tuple[FieldValue, ...] = (0, 0, 0, 0),
    total_votos_asentado: FieldValue = 0,
    sin_acta: MotivoSinActa | None = None,
    fuera_catalogo: bool = False,
    **provenance: str,
) -> ActaRecord:
    """An acta of ``election`` (the default one if None); unnamed contenders get ``fill``.

    ``provenance`` sets the text fields (``sha``, ``fecha_hora_acopio``, ``origen`` …).
    """
    election = election or make_election()
    votes = dict(votes or {})
    unknown = set(votes) - set(election.columns)
    assert not unknown, f"not contenders of the election: {unknown}"
    casilla = casilla or make_casilla()
    if tipo_acta is None:
        tipo_acta = "3" if casilla.especial else "2"
    return ActaRecord(
        casilla=casilla,
        tipo_acta=tipo_acta,
        control=control,
        votos=tuple(votes.get(c, fill) for c in election.columns),
        no_registrados=no_registrados,
        nulos=nulos,
        total_votos_asentado=total_votos_asentado,
        lista_nominal=lista_nominal,
        representantes_pp_ci=representantes,
        sin_acta=sin_acta,
        fuera_catalogo=fuera_catalogo,
        **provenance,
    )


def all_blank(election: Election | None = None, *, marca: Marca = Marca.ILEGIBLE) -> ActaRecord:
    """An acta whose every vote field (contenders, NO_REGISTRADOS, NULOS) holds ``marca``."""
    return make_acta(election=election, fill=marca, no_registrados=marca, nulos=marca)


def decide(
    acta: ActaRecord, *, election: Election | None = None, settings: RuleSettings | None = None
) -> Decision:
    return contabilizar(
        acta, election=election or make_election(), settings=settings or RuleSettings()
    )


def decided(
    actas: Iterable[ActaRecord], *, election: Election, settings: RuleSettings | None = None
) -> list[tuple[ActaRecord, Decision]]:
    """Each acta with the rules' decision, as ``tally`` and ``write_prepdb`` take them."""
    settings = settings or RuleSettings()
    return [(a, contabilizar(a, election=election, settings=settings)) for a in actas]
