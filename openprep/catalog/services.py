"""Catalog services: load what is expected (elections, contenders, casillas, actas)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction

from openprep.catalog.models import ActaEsperada, Casilla, Contendiente, Eleccion
from openprep.core import model as core
from openprep.core.errors import UserError


class CatalogError(UserError):
    """A catalog that cannot be loaded as given."""


@dataclass(frozen=True, slots=True)
class ActaEsperadaSpec:
    """One expected acta as a catalog package states it."""

    casilla: core.Casilla
    lista_nominal: int
    tipo_acta: str
    representantes_pp_ci: int = 0
    no_aplica: tuple[str, ...] = ()


def zona_horaria(nombre: str) -> tzinfo:
    """An institute's time zone: an IANA name (America/Cancun) or a fixed ``UTC-5``."""
    fixed = core.parse_utc_offset(nombre)
    if fixed is not None:
        return fixed
    try:
        return ZoneInfo(nombre)
    except (ZoneInfoNotFoundError, ValueError):
        raise CatalogError(
            f"zona horaria desconocida {nombre!r}.",
            hint="Use un nombre IANA como America/Mexico_City o un desfase fijo como UTC-6.",
        ) from None


def election_of(eleccion: Eleccion) -> core.Election:
    """The core's view of an election: its contenders in ballot order."""
    return core.Election(
        nombre=eleccion.nombre,
        contenders=tuple(
            core.Contender(clave=c.clave, tipo=core.TipoContendiente(c.tipo))
            for c in eleccion.contendientes.order_by("orden")
        ),
    )


@transaction.atomic
def importar_eleccion(
    *, election: core.Election, zona: str, actas: Iterable[ActaEsperadaSpec]
) -> Eleccion:
    """Create an election with its contenders and expected actas, in catalog order.

    Casillas are shared by the elections of a process: an existing casilla is reused
    and must keep its lista nominal.
    """
    zona_horaria(zona)
    if Eleccion.objects.filter(nombre=election.nombre).exists():
        raise CatalogError(
            f"la elección {election.nombre!r} ya está en el catálogo.",
            hint="Use una base de datos nueva o elija otro nombre de elección.",
        )
    eleccion = Eleccion.objects.create(nombre=election.nombre, zona_horaria=zona)
    Contendiente.objects.bulk_create(
        Contendiente(eleccion=eleccion, clave=c.clave, tipo=c.tipo.value, orden=i)
        for i, c in enumerate(election.contenders)
    )
    columns = set(election.columns)
    casillas = {_identity(c): c for c in Casilla.objects.all()}
    nuevas: list[ActaEsperada] = []
    for orden, spec in enumerate(actas):
        unknown = set(spec.no_aplica) - columns
        if unknown:
            raise CatalogError(
                f"el acta {core.clave_acta(spec.casilla, spec.tipo_acta)} marca como no aplicable "
                f"una columna que la elección no tiene: {', '.join(sorted(unknown))}.",
                hint="Revise los contendientes de la elección.",
            )
        casilla = casillas.get(_identity(spec.casilla))
        if casilla is None:
            casilla = Casilla.objects.create(
                lista_nominal=spec.lista_nominal, **_casilla_fields(spec.casilla)
            )
            casillas[_identity(casilla)] = casilla
        elif casilla.lista_nominal != spec.lista_nominal:
            raise CatalogError(
                f"la casilla {casilla} ya tiene lista nominal {casilla.lista_nominal}, "
                f"no {spec.lista_nominal}.",
                hint="Una casilla tiene una sola lista nominal en todas las elecciones.",
            )
        nuevas.append(
            ActaEsperada(
                eleccion=eleccion,
                casilla=casilla,
                tipo_acta=spec.tipo_acta,
                clave_acta=core.clave_acta(spec.casilla, spec.tipo_acta),
                orden=orden,
                representantes_pp_ci=spec.representantes_pp_ci,
                no_aplica=list(spec.no_aplica),
            )
        )
    claves = [a.clave_acta for a in nuevas]
    if len(set(claves)) != len(claves):
        repeated = next(c for c in claves if claves.count(c) > 1)
        raise CatalogError(
            f"el acta {repeated} aparece dos veces en el catálogo.",
            hint="Cada acta esperada debe aparecer una sola vez.",
        )
    ActaEsperada.objects.bulk_create(nuevas, batch_size=2000)
    return eleccion


def _identity(casilla: Casilla | core.Casilla) -> tuple[int, int, str, int, int]:
    """What identifies a casilla (DOMAIN.md §2), for a catalog row or a core value alike."""
    return (
        casilla.id_entidad,
        casilla.seccion,
        casilla.tipo,
        casilla.id_casilla,
        casilla.ext_contigua,
    )


def _casilla_fields(casilla: core.Casilla) -> dict[str, object]:
    return {
        "id_entidad": casilla.id_entidad,
        "entidad": casilla.entidad,
        "id_distrito": casilla.id_distrito,
        "distrito": casilla.distrito,
        "id_municipio": casilla.id_municipio,
        "municipio": casilla.municipio,
        "seccion": casilla.seccion,
        "tipo": casilla.tipo,
        "id_casilla": casilla.id_casilla,
        "ext_contigua": casilla.ext_contigua,
        "ubicacion": casilla.ubicacion,
    }


def to_core_casilla(casilla: Casilla) -> core.Casilla:
    return core.Casilla(
        id_entidad=casilla.id_entidad,
        entidad=casilla.entidad,
        id_distrito=casilla.id_distrito,
        distrito=casilla.distrito,
        seccion=casilla.seccion,
        tipo=casilla.tipo,
        id_casilla=casilla.id_casilla,
        ext_contigua=casilla.ext_contigua,
        ubicacion=casilla.ubicacion,
        id_municipio=casilla.id_municipio,
        municipio=casilla.municipio,
    )
