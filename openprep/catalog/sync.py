"""The catalog compared with an election package, table by table, and the differences written.

Each table is read as natural key → comparable fields (JSON-ready, so a difference is
also what a :class:`~openprep.catalog.models.CambioCatalogo` records). Keys: the process
is one row; an election is its ``clave``; a contender (election, column); a candidatura
(election, column, territory or ``None``); a casilla its identity (its CATD compared by
clave); an expected acta (election, casilla identity, TIPO_ACTA). CATDs and drill accounts
are compared and written by :mod:`openprep.catalog.package_cuentas_sync`: created and
updated, never removed.

The publication order of the expected actas (``ActaEsperada.orden``) is compared by
sequence, not by number: removing a casilla leaves a gap and adding casillas at the end
appends, so neither rewrites every later acta; any other reordering renumbers the
election's actas once and counts as one change.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from django.db.models import Model, ProtectedError

from openprep.accounts.models import CATD
from openprep.catalog.errors import CatalogError
from openprep.catalog.models import (
    AccionCambio,
    ActaEsperada,
    Candidatura,
    Casilla,
    Contendiente,
    Eleccion,
    Proceso,
)
from openprep.catalog.package import PaqueteElectoral
from openprep.catalog.package_cuentas_sync import (
    TABLA_CATD,
    TABLA_OPERADORES,
    aplicar_catds,
    aplicar_operadores,
    diferencias_cuentas,
)
from openprep.core import model as core

TABLAS = (
    "proceso",
    TABLA_CATD,
    "elecciones",
    "contendientes",
    "candidaturas",
    "casillas",
    "actas esperadas",
    TABLA_OPERADORES,
)
"""The catalog's tables, as an import reports them, in the order it writes them."""

Fields = dict[str, Any]
Identidad = tuple[int, int, str, int, int]
IDENTIDAD_CASILLA = ("id_entidad", "seccion", "tipo", "id_casilla", "ext_contigua")
_CAMPOS_CASILLA = (
    "entidad",
    "id_distrito",
    "distrito",
    "id_municipio",
    "municipio",
    "ubicacion",
    "lista_nominal",
)
_ACTAS = "actas esperadas"


@dataclass(frozen=True, slots=True)
class Cambio:
    """One difference: a row to create, modify or remove, or an election's actas reordered."""

    tabla: str
    clave: Hashable
    objeto: str
    accion: AccionCambio
    pk: int | None
    antes: Fields | None
    despues: Fields | None


@dataclass
class Diferencias:
    cambios: list[Cambio] = field(default_factory=list)
    orden_nuevo: dict[Hashable, int] = field(default_factory=dict)
    """Publication order of each expected acta to create or to move."""


@dataclass
class _Tabla:
    filas: dict[Hashable, tuple[int, Fields]] = field(default_factory=dict)
    ajenas: set[Hashable] = field(default_factory=set)
    """Rows an election outside the process (a replay) also uses: never removed."""


def identity(casilla: Casilla | core.Casilla) -> Identidad:
    """What identifies a casilla (DOMAIN.md §2), for a catalog row or a core value alike."""
    return (
        casilla.id_entidad,
        casilla.seccion,
        casilla.tipo,
        casilla.id_casilla,
        casilla.ext_contigua,
    )


def _core_identity(identidad: Identidad) -> core.Casilla:
    """A casilla known by its identity alone, for its CLAVE_CASILLA and CLAVE_ACTA."""
    id_entidad, seccion, tipo, id_casilla, ext_contigua = identidad
    return core.Casilla(
        id_entidad=id_entidad,
        entidad="",
        id_distrito=0,
        distrito="",
        seccion=seccion,
        tipo=tipo,
        id_casilla=id_casilla,
        ext_contigua=ext_contigua,
        ubicacion=0,
    )


def _clave_acta(identidad: Identidad, tipo_acta: str) -> str:
    return core.clave_acta(_core_identity(identidad), tipo_acta)


def _momento(valor: datetime) -> str:
    return valor.astimezone(UTC).isoformat()


def campos_proceso(p: Any) -> Fields:
    """A process (row or package spec) in comparable form."""
    return {
        "instituto": p.instituto,
        "id_entidad": p.id_entidad,
        "entidad": p.entidad,
        "zona_horaria": p.zona_horaria,
        "inicio_publicacion": _momento(p.inicio_publicacion),
        "intervalo_minutos": p.intervalo_minutos,
        "fin_publicacion": _momento(p.fin_publicacion),
        "representantes": p.representantes,
        "boletas_especial": p.boletas_especial,
        "etiquetas": p.etiquetas,
    }


# --- reading both sides ----------------------------------------------------------------


def _actual(proceso: Proceso | None) -> tuple[dict[str, _Tabla], dict[Hashable, int]]:
    """The catalog as it stands, and each expected acta's publication order."""
    tablas = {tabla: _Tabla() for tabla in TABLAS}
    if proceso is not None:
        tablas["proceso"].filas[()] = (proceso.pk, campos_proceso(proceso))
    elecciones = (
        Eleccion.objects.filter(proceso=proceso) if proceso is not None else Eleccion.objects.none()
    )
    for e in elecciones:
        tablas["elecciones"].filas[e.clave] = (
            e.pk,
            {
                "nombre": e.nombre,
                "ambito": e.ambito,
                "tipo_acta": e.tipo_acta,
                "tipo_acta_especial": e.tipo_acta_especial,
                "zona_horaria": e.zona_horaria,
            },
        )
    for pk, eleccion, clave, tipo, orden in Contendiente.objects.filter(
        eleccion__in=elecciones
    ).values_list("pk", "eleccion__clave", "clave", "tipo", "orden"):
        tablas["contendientes"].filas[(eleccion, clave)] = (pk, {"tipo": tipo, "orden": orden})
    for pk, eleccion, contendiente, territorio, propietario, suplente in Candidatura.objects.filter(
        eleccion__in=elecciones
    ).values_list(
        "pk",
        "eleccion__clave",
        "contendiente__clave",
        "id_territorio",
        "propietario",
        "suplente",
    ):
        tablas["candidaturas"].filas[(eleccion, contendiente, territorio)] = (
            pk,
            {"propietario": propietario, "suplente": suplente},
        )
    ajenas = set(
        ActaEsperada.objects.exclude(eleccion__in=elecciones)
        .values_list("casilla_id", flat=True)
        .distinct()
    )
    for row in Casilla.objects.values_list(
        "pk", *IDENTIDAD_CASILLA, *_CAMPOS_CASILLA, "catd__clave"
    ):
        pk, identidad = row[0], row[1:6]
        if pk in ajenas:
            tablas["casillas"].ajenas.add(identidad)
        campos = dict(zip(_CAMPOS_CASILLA, row[6:-1], strict=True))
        campos["catd"] = row[-1] or ""
        tablas["casillas"].filas[identidad] = (pk, campos)
    orden: dict[Hashable, int] = {}
    for row in ActaEsperada.objects.filter(eleccion__in=elecciones).values_list(
        "pk",
        "eleccion__clave",
        *(f"casilla__{c}" for c in IDENTIDAD_CASILLA),
        "tipo_acta",
        "orden",
        "representantes_pp_ci",
        "no_aplica",
    ):
        clave = (row[1], row[2:7], row[7])
        orden[clave] = row[8]
        tablas[_ACTAS].filas[clave] = (
            row[0],
            {"representantes_pp_ci": row[9], "no_aplica": list(row[10])},
        )
    return tablas, orden


def _deseado(
    paquete: PaqueteElectoral,
) -> tuple[dict[str, dict[Hashable, Fields]], dict[str, list[Hashable]]]:
    """The catalog as the package states it, and each election's actas in publication order."""
    zona = paquete.proceso.zona_horaria
    tablas: dict[str, dict[Hashable, Fields]] = {tabla: {} for tabla in TABLAS}
    secuencias: dict[str, list[Hashable]] = {}
    tablas["proceso"][()] = campos_proceso(paquete.proceso)
    for c in paquete.casillas:
        campos = {name: getattr(c.casilla, name) for name in _CAMPOS_CASILLA[:-1]}
        campos["lista_nominal"] = c.lista_nominal
        campos["catd"] = c.catd
        tablas["casillas"][identity(c.casilla)] = campos
    for e in paquete.elecciones:
        tablas["elecciones"][e.clave] = {
            "nombre": e.nombre,
            "ambito": e.ambito,
            "tipo_acta": e.tipo_acta,
            "tipo_acta_especial": e.tipo_acta_especial,
            "zona_horaria": zona,
        }
        for c in e.contendientes:
            tablas["contendientes"][(e.clave, c.clave)] = {"tipo": c.tipo.value, "orden": c.orden}
        for k in e.candidaturas:
            tablas["candidaturas"][(e.clave, k.contendiente, k.id_territorio)] = {
                "propietario": k.propietario,
                "suplente": k.suplente,
            }
        secuencia = secuencias[e.clave] = []
        for acta in e.actas:
            clave = (e.clave, identity(acta.casilla), acta.tipo_acta)
            secuencia.append(clave)
            tablas[_ACTAS][clave] = {
                "representantes_pp_ci": acta.representantes_pp_ci,
                "no_aplica": list(acta.no_aplica),
            }
    return tablas, secuencias


def objeto(tabla: str, clave: Any) -> str:
    """A changed object's name as an administrator reads it in the change log."""
    if tabla == "proceso":
        return "proceso"
    if tabla == "elecciones":
        return str(clave)
    if tabla == "contendientes":
        return f"{clave[0]} {clave[1]}"
    if tabla == "candidaturas":
        territorio = "TODOS" if clave[2] is None else f"territorio {clave[2]}"
        return f"{clave[0]} {clave[1]} {territorio}"
    if tabla == "casillas":
        return _core_identity(clave).clave
    eleccion, identidad, tipo_acta = clave
    return f"{eleccion} {_clave_acta(identidad, tipo_acta)}"


# --- comparing --------------------------------------------------------------------------


def diferencias(paquete: PaqueteElectoral, proceso: Proceso | None) -> Diferencias:
    """What must change for the catalog to hold exactly what ``paquete`` states."""
    cuentas = [Cambio(*d) for d in diferencias_cuentas(paquete)]
    actual, orden_actual = _actual(proceso)
    deseado, secuencias = _deseado(paquete)
    resultado = Diferencias()
    for tabla in TABLAS:
        filas = actual[tabla].filas
        for clave, campos in deseado[tabla].items():
            existente = filas.get(clave)
            if existente is None:
                resultado.cambios.append(
                    Cambio(
                        tabla, clave, objeto(tabla, clave), AccionCambio.CREADO, None, None, campos
                    )
                )
                continue
            pk, antes = existente
            distintos = [k for k in campos if antes[k] != campos[k]]
            if distintos:
                resultado.cambios.append(
                    Cambio(
                        tabla,
                        clave,
                        objeto(tabla, clave),
                        AccionCambio.MODIFICADO,
                        pk,
                        {k: antes[k] for k in distintos},
                        {k: campos[k] for k in distintos},
                    )
                )
        for clave, (pk, antes) in filas.items():
            if clave not in deseado[tabla] and clave not in actual[tabla].ajenas:
                resultado.cambios.append(
                    Cambio(
                        tabla, clave, objeto(tabla, clave), AccionCambio.ELIMINADO, pk, antes, None
                    )
                )
    for eleccion, secuencia in secuencias.items():
        existentes = {k: o for k, o in orden_actual.items() if k[0] == eleccion}
        nuevo, movidas = _ordenar(secuencia, existentes)
        resultado.orden_nuevo.update(nuevo)
        if movidas:
            resultado.cambios.append(
                Cambio(
                    _ACTAS,
                    ("orden", eleccion),
                    f"{eleccion} (orden de publicación)",
                    AccionCambio.REORDENADO,
                    None,
                    None,
                    {"actas_movidas": movidas},
                )
            )
    resultado.cambios.extend(cuentas)
    return resultado


def _ordenar(
    secuencia: list[Hashable], existentes: dict[Hashable, int]
) -> tuple[dict[Hashable, int], int]:
    """Publication order for the actas to create or move, and how many existing ones move.

    Existing numbers stand while the surviving actas keep their relative order and every
    new acta comes after them; otherwise the election is renumbered 0, 1, 2, …
    """
    ultimo = -1
    en_orden = True
    nueva_vista = False
    for clave in secuencia:
        numero = existentes.get(clave)
        if numero is None:
            nueva_vista = True
        elif nueva_vista or numero <= ultimo:
            en_orden = False
            break
        else:
            ultimo = numero
    if en_orden:
        siguiente = max(existentes.values(), default=-1) + 1
        nuevas = [c for c in secuencia if c not in existentes]
        return {c: siguiente + i for i, c in enumerate(nuevas)}, 0
    orden = {c: i for i, c in enumerate(secuencia) if existentes.get(c) != i}
    return orden, sum(1 for c in orden if c in existentes)


# --- writing ----------------------------------------------------------------------------


def aplicar(paquete: PaqueteElectoral, proceso: Proceso | None, dif: Diferencias) -> Proceso:
    """Write the differences: removals first (children before parents), then the rest."""
    grupos: dict[tuple[str, AccionCambio], list[Cambio]] = {}
    for c in dif.cambios:
        grupos.setdefault((c.tabla, c.accion), []).append(c)

    def de(tabla: str, accion: AccionCambio) -> list[Cambio]:
        return grupos.get((tabla, accion), [])

    proceso = _aplicar_proceso(proceso, paquete)
    aplicar_catds(de(TABLA_CATD, AccionCambio.CREADO), de(TABLA_CATD, AccionCambio.MODIFICADO))
    _eliminar(Candidatura, de("candidaturas", AccionCambio.ELIMINADO))
    _eliminar(ActaEsperada, de(_ACTAS, AccionCambio.ELIMINADO))
    _eliminar(Contendiente, de("contendientes", AccionCambio.ELIMINADO))
    _eliminar(Eleccion, de("elecciones", AccionCambio.ELIMINADO))
    _eliminar(Casilla, de("casillas", AccionCambio.ELIMINADO))

    # Unique names and positions may be swapped: move them out of the way first.
    _apartar(Eleccion, de("elecciones", AccionCambio.MODIFICADO), "nombre", "~{pk}~".format)
    _actualizar(Eleccion, de("elecciones", AccionCambio.MODIFICADO))
    for c in de("elecciones", AccionCambio.CREADO):
        Eleccion.objects.create(proceso=proceso, clave=c.clave, **(c.despues or {}))
    elecciones = dict(Eleccion.objects.filter(proceso=proceso).values_list("clave", "pk"))

    _apartar(
        Contendiente,
        de("contendientes", AccionCambio.MODIFICADO),
        "orden",
        lambda pk: 1_000_000 + pk,
    )
    _actualizar(Contendiente, de("contendientes", AccionCambio.MODIFICADO))
    Contendiente.objects.bulk_create(
        Contendiente(eleccion_id=elecciones[c.clave[0]], clave=c.clave[1], **(c.despues or {}))
        for c in de("contendientes", AccionCambio.CREADO)
    )
    contendientes = {
        (eleccion, clave): pk
        for pk, eleccion, clave in Contendiente.objects.filter(
            eleccion__proceso=proceso
        ).values_list("pk", "eleccion__clave", "clave")
    }
    _actualizar(Candidatura, de("candidaturas", AccionCambio.MODIFICADO))
    Candidatura.objects.bulk_create(
        (
            Candidatura(
                eleccion_id=elecciones[c.clave[0]],
                contendiente_id=contendientes[c.clave[:2]],
                id_territorio=c.clave[2],
                **(c.despues or {}),
            )
            for c in de("candidaturas", AccionCambio.CREADO)
        ),
        batch_size=2000,
    )

    catds = dict(CATD.objects.values_list("clave", "pk"))
    _actualizar(Casilla, _con_catd(de("casillas", AccionCambio.MODIFICADO), catds))
    Casilla.objects.bulk_create(
        (
            Casilla(**dict(zip(IDENTIDAD_CASILLA, c.clave, strict=True)), **(c.despues or {}))
            for c in _con_catd(de("casillas", AccionCambio.CREADO), catds)
        ),
        batch_size=2000,
    )
    casillas = {row[1:]: row[0] for row in Casilla.objects.values_list("pk", *IDENTIDAD_CASILLA)}

    _actualizar(ActaEsperada, de(_ACTAS, AccionCambio.MODIFICADO))
    nuevas = de(_ACTAS, AccionCambio.CREADO)
    ActaEsperada.objects.bulk_create(
        (
            ActaEsperada(
                eleccion_id=elecciones[c.clave[0]],
                casilla_id=casillas[c.clave[1]],
                tipo_acta=c.clave[2],
                clave_acta=_clave_acta(c.clave[1], c.clave[2]),
                orden=dif.orden_nuevo[c.clave],
                **(c.despues or {}),
            )
            for c in nuevas
        ),
        batch_size=2000,
    )
    creadas = {c.clave for c in nuevas}
    movidas = {k: o for k, o in dif.orden_nuevo.items() if k not in creadas}
    if movidas:
        _mover(movidas, elecciones=elecciones, casillas=casillas)
    aplicar_operadores(
        paquete,
        de(TABLA_OPERADORES, AccionCambio.CREADO),
        de(TABLA_OPERADORES, AccionCambio.MODIFICADO),
    )
    return proceso


def _con_catd(cambios: list[Cambio], catds: dict[str, int]) -> list[Cambio]:
    """A casilla's CATD is compared (and logged) by clave and written by key."""
    resultado = []
    for c in cambios:
        despues = dict(c.despues or {})
        if "catd" in despues:
            clave = despues.pop("catd")
            despues["catd_id"] = catds[clave] if clave else None
        resultado.append(replace(c, despues=despues))
    return resultado


def _aplicar_proceso(proceso: Proceso | None, paquete: PaqueteElectoral) -> Proceso:
    spec = paquete.proceso
    valores = {
        name: getattr(spec, name)
        for name in (
            "instituto",
            "id_entidad",
            "entidad",
            "zona_horaria",
            "inicio_publicacion",
            "intervalo_minutos",
            "fin_publicacion",
            "representantes",
            "boletas_especial",
            "etiquetas",
        )
    }
    if proceso is None:
        return Proceso.objects.create(**valores)
    if campos_proceso(proceso) != campos_proceso(spec):
        for name, valor in valores.items():
            setattr(proceso, name, valor)
        proceso.save()
    return proceso


def _apartar(
    model: type[Model], cambios: Iterable[Cambio], campo: str, temporal: Callable[[int], Any]
) -> None:
    for c in cambios:
        if c.despues is not None and campo in c.despues:
            model._default_manager.filter(pk=c.pk).update(**{campo: temporal(pk=c.pk)})


def _actualizar(model: type[Model], cambios: Iterable[Cambio]) -> None:
    """Bulk updates, one per set of changed fields (a new lista nominal for every casilla is
    a few statements, not one per casilla)."""
    grupos: dict[tuple[str, ...], list[Model]] = {}
    for c in cambios:
        despues = c.despues or {}
        grupos.setdefault(tuple(sorted(despues)), []).append(model(pk=c.pk, **despues))
    for campos, filas in grupos.items():
        model._default_manager.bulk_update(filas, list(campos), batch_size=1000)


def _mover(
    orden: dict[Hashable, int],
    *,
    elecciones: dict[str, int],
    casillas: dict[Identidad, int],
) -> None:
    pks = {
        (eleccion, casilla, tipo_acta): pk
        for pk, eleccion, casilla, tipo_acta in ActaEsperada.objects.filter(
            eleccion_id__in=elecciones.values()
        ).values_list("pk", "eleccion_id", "casilla_id", "tipo_acta")
    }
    filas = []
    for (eleccion, identidad, tipo_acta), numero in orden.items():
        pk = pks[(elecciones[eleccion], casillas[identidad], tipo_acta)]
        filas.append(ActaEsperada(pk=pk, orden=numero))
    ActaEsperada.objects.bulk_update(filas, ["orden"], batch_size=2000)


def _eliminar(model: type[Model], cambios: list[Cambio]) -> None:
    if not cambios:
        return
    try:
        model._default_manager.filter(pk__in=[c.pk for c in cambios]).delete()
    except ProtectedError as exc:
        ejemplos = sorted(str(o) for o in exc.protected_objects)[:5]
        raise CatalogError(
            f"el paquete quita {model._meta.verbose_name_plural} que ya tienen actas "
            f"registradas ({', '.join(ejemplos)}); no se importó nada.",
            hint="Una casilla que no se instaló se registra como SIN ACTA, no se quita del "
            "catálogo. Devuelva esas filas al paquete.",
        ) from None
