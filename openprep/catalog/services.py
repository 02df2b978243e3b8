"""Catalog services: load what is expected (process, elections, contenders, casillas, actas).

Two ways in: :func:`importar_paquete` makes the catalog hold what a validated election
package (:mod:`openprep.catalog.package`) states, writing only the differences
(:mod:`openprep.catalog.sync`), and :func:`importar_eleccion` creates one election as a
replayed publication states it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from openprep.catalog.errors import CatalogError
from openprep.catalog.models import (
    AccionCambio,
    ActaEsperada,
    CambioCatalogo,
    Casilla,
    Contendiente,
    Eleccion,
    Proceso,
)
from openprep.catalog.package import ActaEsperadaSpec, PaqueteElectoral, zona_horaria
from openprep.catalog.sync import TABLAS, aplicar, diferencias, identity
from openprep.core import model as core

__all__ = [
    "PERMISO_FORZAR",
    "TABLAS",
    "ActaEsperadaSpec",
    "CatalogError",
    "Conteo",
    "ResultadoImportacion",
    "catalogo_bloqueado",
    "election_of",
    "importar_eleccion",
    "importar_paquete",
    "proceso_vigente",
    "puede_forzar",
    "registrar_cambio",
    "to_core_casilla",
    "zona_horaria",
]

PERMISO_FORZAR = "catalog.forzar_cambios"
"""Who may change the catalog after publication started (superusers hold every permission)."""


def election_of(eleccion: Eleccion) -> core.Election:
    """The core's view of an election: its contenders in ballot order."""
    return core.Election(
        nombre=eleccion.nombre,
        contenders=tuple(
            core.Contender(clave=c.clave, tipo=core.TipoContendiente(c.tipo))
            for c in eleccion.contendientes.order_by("orden")
        ),
    )


# --- the lock ---------------------------------------------------------------------------


def proceso_vigente() -> Proceso | None:
    """The process the catalog holds (a database holds one)."""
    return Proceso.objects.order_by("pk").first()


def catalogo_bloqueado(*, ahora: datetime | None = None) -> bool:
    """Whether publication has started: changes then need an administrator and leave a trace."""
    proceso = proceso_vigente()
    return proceso is not None and proceso.bloqueado(ahora or timezone.now())


def puede_forzar(usuario: AbstractBaseUser | AnonymousUser | None) -> bool:
    return usuario is not None and usuario.is_active and usuario.has_perm(PERMISO_FORZAR)


def registrar_cambio(
    *,
    usuario: AbstractBaseUser,
    cuando: datetime,
    origen: str,
    motivo: str = "",
    tabla: str,
    objeto: str,
    accion: AccionCambio,
    antes: Mapping[str, Any] | None,
    despues: Mapping[str, Any] | None,
) -> CambioCatalogo:
    """Record one change made to a locked catalog (by an import or in the admin)."""
    return CambioCatalogo.objects.create(
        usuario=usuario,
        cuando=cuando,
        origen=origen[:300],
        motivo=motivo,
        tabla=tabla,
        objeto=objeto[:200],
        accion=accion,
        antes=None if antes is None else dict(antes),
        despues=None if despues is None else dict(despues),
    )


# --- importing a package ----------------------------------------------------------------


@dataclass
class Conteo:
    creados: int = 0
    actualizados: int = 0
    eliminados: int = 0
    reordenados: int = 0
    """Rows moved in publication order (expected actas only)."""

    @property
    def total(self) -> int:
        return self.creados + self.actualizados + self.eliminados + self.reordenados


@dataclass(frozen=True, slots=True)
class ResultadoImportacion:
    conteos: dict[str, Conteo]
    """Per table of :data:`TABLAS`."""
    bloqueado: bool
    """Publication had started: every change was recorded as a :class:`CambioCatalogo`."""
    cambios_registrados: int

    @property
    def sin_cambios(self) -> bool:
        return all(c.total == 0 for c in self.conteos.values())


def importar_paquete(
    paquete: PaqueteElectoral,
    *,
    usuario: AbstractBaseUser | None = None,
    forzar: bool = False,
    motivo: str = "",
    ahora: datetime | None = None,
) -> ResultadoImportacion:
    """Make the catalog hold exactly what ``paquete`` states; importing it again changes nothing.

    Once publication has started (``ahora`` at or past the publication start of the
    process in force, or of the package when there is none yet) nothing changes unless
    ``forzar`` is given with a ``usuario`` holding :data:`PERMISO_FORZAR`; each change is
    then recorded as a :class:`CambioCatalogo` in the same transaction.
    """
    ahora = ahora or timezone.now()
    with transaction.atomic():
        # Serializes imports: the process row stays locked until the transaction ends.
        proceso = Proceso.objects.select_for_update().order_by("pk").first()
        dif = diferencias(paquete, proceso)
        inicio = (proceso or paquete.proceso).inicio_publicacion
        bloqueado = ahora >= inicio
        conteos = {tabla: Conteo() for tabla in TABLAS}
        for cambio in dif.cambios:
            conteo = conteos[cambio.tabla]
            if cambio.accion is AccionCambio.CREADO:
                conteo.creados += 1
            elif cambio.accion is AccionCambio.MODIFICADO:
                conteo.actualizados += 1
            elif cambio.accion is AccionCambio.ELIMINADO:
                conteo.eliminados += 1
            else:
                conteo.reordenados += (cambio.despues or {}).get("actas_movidas", 0)
        if not dif.cambios:
            return ResultadoImportacion(conteos=conteos, bloqueado=bloqueado, cambios_registrados=0)
        if bloqueado:
            _autorizar(usuario=usuario, forzar=forzar, inicio=inicio, paquete=paquete)
        _conflictos(paquete, proceso)
        aplicar(paquete, proceso, dif)
        if not bloqueado:
            return ResultadoImportacion(conteos=conteos, bloqueado=False, cambios_registrados=0)
        assert usuario is not None
        origen = f"importación del paquete {paquete.directorio}"
        CambioCatalogo.objects.bulk_create(
            (
                CambioCatalogo(
                    usuario=usuario,
                    cuando=ahora,
                    origen=origen[:300],
                    motivo=motivo,
                    tabla=c.tabla,
                    objeto=c.objeto[:200],
                    accion=c.accion,
                    antes=c.antes,
                    despues=c.despues,
                )
                for c in dif.cambios
            ),
            batch_size=2000,
        )
    return ResultadoImportacion(
        conteos=conteos, bloqueado=True, cambios_registrados=len(dif.cambios)
    )


def _autorizar(
    *,
    usuario: AbstractBaseUser | None,
    forzar: bool,
    inicio: datetime,
    paquete: PaqueteElectoral,
) -> None:
    cuando = core.format_corte(inicio, tz=zona_horaria(paquete.proceso.zona_horaria))
    if not forzar:
        raise CatalogError(
            f"la publicación empezó el {cuando} y el catálogo está bloqueado; el paquete "
            "lo cambiaría y no se importó.",
            hint="Si la corrección es necesaria, un administrador puede aplicarla con "
            "--forzar --usuario SU_USUARIO (cada cambio queda registrado).",
        )
    if usuario is None:
        raise CatalogError(
            "--forzar requiere saber quién hace el cambio.",
            hint="Indique --usuario con el nombre de un administrador.",
        )
    if not puede_forzar(usuario):
        raise CatalogError(
            f"el usuario {usuario.get_username()!r} no puede cambiar el catálogo después del "
            "inicio de la publicación.",
            hint="Solo un administrador (permiso «forzar_cambios» del catálogo) puede hacerlo.",
        )


def _conflictos(paquete: PaqueteElectoral, proceso: Proceso | None) -> None:
    """Elections outside the process (a replay) whose names the package would take."""
    ajenas = Eleccion.objects.filter(nombre__in=[e.nombre for e in paquete.elecciones])
    if proceso is not None:
        ajenas = ajenas.exclude(proceso=proceso)
    nombres = [e.nombre for e in ajenas.order_by("nombre")]
    if nombres:
        raise CatalogError(
            "ya existen elecciones que no son de este proceso (¿una reproducción?) con los "
            f"nombres {', '.join(repr(n) for n in nombres)}.",
            hint="Importe el paquete en una base de datos nueva o cambie el NOMBRE en "
            "elecciones.csv.",
        )


# --- one election from a replayed publication -------------------------------------------


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
    casillas = {identity(c): c for c in Casilla.objects.all()}
    nuevas: list[ActaEsperada] = []
    for orden, spec in enumerate(actas):
        unknown = set(spec.no_aplica) - columns
        if unknown:
            raise CatalogError(
                f"el acta {core.clave_acta(spec.casilla, spec.tipo_acta)} marca como no aplicable "
                f"una columna que la elección no tiene: {', '.join(sorted(unknown))}.",
                hint="Revise los contendientes de la elección.",
            )
        casilla = casillas.get(identity(spec.casilla))
        if casilla is None:
            casilla = Casilla.objects.create(
                lista_nominal=spec.lista_nominal, **_casilla_fields(spec.casilla)
            )
            casillas[identity(casilla)] = casilla
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
