"""The capture path's two hot transactions as hand-written PostgreSQL statements.

On election night every capture is one request that records the capture and claims the
next acta. Through the ORM that was about twenty statements, each compiled by Django at
every request; here it is four, written once: (1) the claim with its acta locked, the
ballot's contenders and the captures the acta already has; (2) the capture, the acta's
new state, its event(s) and the end of the claim, in one statement of data-modifying
CTEs; (3) the next candidate locked with ``SKIP LOCKED`` and claimed in one statement
(``INSERT … ON CONFLICT`` takes over an expired claim); (4) before it, this person's own
claim, if any (asking again returns it, extended). Each is a prepared statement
(:mod:`openprep.accounts.preparadas`): planned once per connection, not at every request.

The rules are not restated here: :func:`services.revisar_capturable`,
:func:`services.validar_valores` and :func:`services.campos_en_desacuerdo` decide, as on
the ORM path that SQLite (and every other caller) takes; the tests run both databases.
What this module adds is only how the rows are read and written:

- statement (2) updates only the acta's changed columns, and its ``DELETE`` of the claim
  must touch one row (ARCHITECTURE.md convention 6): a claim taken over after it expired
  makes the late capture fail and roll back, as on the ORM path;
- the captures are read in the statement that locks the acta, so they could predate a
  capture committed while we waited for the lock; the acta's ``num_capturas`` (moved in
  the same transaction as every capture) is read after the wait, and a mismatch reads
  the captures again, now under the lock.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import DEFERRED, Model
from django.utils import timezone

from openprep.accounts.preparadas import cursor_preparado
from openprep.capture.models import Asignacion, Captura, Tarea
from openprep.capture.services import (
    CAPTURAS_REQUERIDAS,
    Resultado,
    asignacion_perdida,
    campos_en_desacuerdo,
    revisar_capturable,
    validar_valores,
)
from openprep.catalog.models import ActaEsperada, Contendiente, Eleccion
from openprep.intake.models import ESTADO_ORDEN, Acta, Estado, TipoEvento

M = TypeVar("M", bound=Model)


def _columnas_acta(estado: str = "ac") -> str:
    """The acta as the capture screen needs it, in :func:`_acta`'s order; the columns a
    capture changes are read from ``estado`` (the row as locked, when it is not ``ac``)."""
    return f"""
    ac.id, ac.clave_acta, {estado}.estado, ac.motivo_sin_acta, ac.imagen_id,
    {estado}.num_capturas, {estado}.fecha_hora_captura, ac.eleccion_id, el.clave, el.nombre,
    ac.esperada_id, e.no_aplica,
    ARRAY(SELECT c.clave FROM catalog_contendiente c
          WHERE c.eleccion_id = ac.eleccion_id ORDER BY c.orden)
    """


_JOIN_ACTA = """
    JOIN catalog_eleccion el ON el.id = ac.eleccion_id
    LEFT JOIN catalog_actaesperada e ON e.id = ac.esperada_id
"""

# (1) This person's claim of this acta for capture, the acta locked, its captures so far.
_ASIGNADA = f"""
SELECT a.id, a.hasta, {_columnas_acta()},
       (SELECT json_agg(json_build_array(k.id, k.capturista_id, k.valores) ORDER BY k.id)
        FROM capture_captura k WHERE k.acta_id = ac.id)
FROM capture_asignacion a
JOIN intake_acta ac ON ac.id = a.acta_id
{_JOIN_ACTA}
WHERE a.usuario_id = %(usuario)s AND a.tarea = %(tarea)s AND ac.clave_acta = %(clave)s
ORDER BY a.id
LIMIT 1
FOR UPDATE OF ac
"""

_CAPTURAS = """
SELECT id, capturista_id, valores FROM capture_captura WHERE acta_id = %s ORDER BY id
"""

# (2) The capture, the acta's changed columns, its events and the end of the claim.
_REGISTRAR = """
WITH captura AS (
    INSERT INTO capture_captura (acta_id, capturista_id, valores, cuando, registrada)
    VALUES (%(acta)s, %(usuario)s, %(valores)s::jsonb, %(cuando)s, %(ahora)s)
    RETURNING id
), acta AS (
    UPDATE intake_acta
    SET estado = %(estado)s, num_capturas = %(num_capturas)s,
        fecha_hora_captura = COALESCE(fecha_hora_captura, %(cuando)s),
        valores = CASE WHEN %(verificada)s THEN %(valores)s::jsonb ELSE valores END,
        fecha_hora_verificacion = CASE WHEN %(verificada)s THEN %(cuando)s
                                       ELSE fecha_hora_verificacion END
    WHERE id = %(acta)s
), eventos AS (
    INSERT INTO intake_eventoacta
        (acta_id, tipo, estado_anterior, estado_nuevo, usuario_id, catd, cuando, registrado,
         datos)
    SELECT %(acta)s, v.tipo, v.anterior, v.nuevo, %(usuario)s, %(catd)s, %(cuando)s,
           %(ahora)s,
           CASE WHEN v.n = 1 THEN jsonb_build_object('captura', captura.id)
                ELSE jsonb_build_object(
                    'automatica', true,
                    'capturas', jsonb_build_array(%(primera)s::bigint, captura.id),
                    'valores', %(valores)s::jsonb)
           END
    FROM captura,
         (VALUES (1, %(tipo1)s, %(anterior1)s, %(nuevo1)s),
                 (2, %(tipo2)s, %(anterior2)s, %(nuevo2)s)) AS v(n, tipo, anterior, nuevo)
    WHERE v.n = 1 OR %(verificada)s
    ORDER BY v.n
), cierre AS (
    DELETE FROM capture_asignacion WHERE id = %(asignacion)s AND usuario_id = %(usuario)s
    RETURNING id
)
SELECT captura.id, (SELECT count(*) FROM cierre) FROM captura
"""

# (4) This person's claims (normally none: a capture has just ended theirs).
_PROPIAS = f"""
SELECT a.id, a.hasta, a.tarea, {_columnas_acta()}
FROM capture_asignacion a
JOIN intake_acta ac ON ac.id = a.acta_id
{_JOIN_ACTA}
WHERE a.usuario_id = %s
ORDER BY a.id
"""

# (3) The oldest acta waiting for a capture this person may make (queue.por_capturar, the
# partial index acta_por_capturar), locked, and claimed: a new claim, or an expired one
# taken over. A candidate whose unexpired claim appeared since our snapshot gives a row
# with no claim (tomada.id NULL): the caller tries again.
_TOMAR = f"""
WITH candidata AS (
    SELECT ac.id, ac.estado, ac.num_capturas, ac.fecha_hora_captura FROM intake_acta ac
    WHERE ac.estado IN ('DIGITALIZADA', 'CAPTURADA') AND ac.imagen_id IS NOT NULL
      AND ac.motivo_sin_acta = '' AND ac.num_capturas < {CAPTURAS_REQUERIDAS}
      AND NOT EXISTS (SELECT 1 FROM capture_captura k
                      WHERE k.acta_id = ac.id AND k.capturista_id = %(usuario)s)
      AND NOT EXISTS (SELECT 1 FROM capture_asignacion a
                      WHERE a.acta_id = ac.id AND a.hasta > %(ahora)s)
    ORDER BY ac.fecha_hora_digitalizacion, ac.id
    LIMIT 1
    FOR UPDATE OF ac SKIP LOCKED
), tomada AS (
    INSERT INTO capture_asignacion (acta_id, usuario_id, tarea, hasta)
    SELECT id, %(usuario)s, %(tarea)s, %(hasta)s FROM candidata
    ON CONFLICT (acta_id) DO UPDATE
        SET usuario_id = EXCLUDED.usuario_id, tarea = EXCLUDED.tarea, hasta = EXCLUDED.hasta
        WHERE capture_asignacion.hasta <= %(ahora)s
    RETURNING id, hasta
)
SELECT tomada.id, tomada.hasta, {_columnas_acta("candidata")}
FROM candidata
JOIN intake_acta ac ON ac.id = candidata.id
{_JOIN_ACTA}
LEFT JOIN tomada ON true
"""

_EXTENDER = "UPDATE capture_asignacion SET hasta = %s WHERE id = %s AND usuario_id = %s"
_SOLTAR = "DELETE FROM capture_asignacion WHERE usuario_id = %s"

# A candidate may be claimed by someone else between our snapshot and our lock: then the
# next candidate is tried, a few times at most (as queue._INTENTOS).
_INTENTOS = 5


def _cursor() -> Any:
    """A cursor on Django's connection (so in the caller's transaction) that prepares."""
    return cursor_preparado(connection)


@functools.cache
def _posiciones(modelo: type[Model], nombres: tuple[str, ...]) -> tuple[int, tuple[int, ...]]:
    campos = [f.attname for f in modelo._meta.concrete_fields]
    return len(campos), tuple(campos.index(n) for n in nombres)


def _instancia(modelo: type[M], nombres: tuple[str, ...], valores: Sequence[Any]) -> M:
    """An instance as the ORM builds one from a row (``Model.from_db``): positional, the
    columns not read left deferred (reading one would query, never invent a default).
    Building from keywords ran every field's default and was ≈ a tenth of a request's
    CPU."""
    total, posiciones = _posiciones(modelo, nombres)
    fila: list[Any] = [DEFERRED] * total
    for i, valor in zip(posiciones, valores, strict=True):
        fila[i] = valor
    instancia = modelo(*fila)
    instancia._state.adding = False
    instancia._state.db = connection.alias
    return instancia


@functools.cache
def _relacion(modelo: type[Model], nombre: str) -> Any:
    return modelo._meta.get_field(nombre)


def _enlazar(instancia: Model, nombre: str, otra: Model | None) -> None:
    """``instancia.<nombre> = otra`` for a foreign key whose id was read with the row: only
    the relation cache is filled (what select_related leaves)."""
    _relacion(type(instancia), nombre).set_cached_value(instancia, otra)


def _json(valor: Any) -> Any:
    """A json/jsonb column: Django has psycopg hand jsonb over as text."""
    return json.loads(valor) if isinstance(valor, str) else valor


@functools.lru_cache(maxsize=256)
def _contendientes(eleccion_id: int, claves: tuple[str, ...]) -> list[Contendiente]:
    """The ballot as model instances, built once per distinct ballot (keyed by what the
    statement read, so a changed catalog is never served stale; nothing mutates them)."""
    return [Contendiente(eleccion_id=eleccion_id, clave=c, orden=i) for i, c in enumerate(claves)]


def _acta(fila: Sequence[Any]) -> Acta:
    """An Acta from the columns of :func:`_columnas_acta`, with its election, its expected acta and
    the election's contenders (as Django's prefetch cache) attached: building the capture
    screen's payload from it makes no query."""
    (pk, clave, estado, motivo, imagen, num, fhc, eleccion_id, el_clave, el_nombre) = fila[:10]
    esperada_id, no_aplica, contendientes = fila[10:13]
    eleccion = _instancia(Eleccion, ("id", "clave", "nombre"), (eleccion_id, el_clave, el_nombre))
    eleccion._prefetched_objects_cache = {  # type: ignore[attr-defined]
        "contendientes": _contendientes(eleccion_id, tuple(contendientes))
    }
    acta = _instancia(
        Acta, _CAMPOS_ACTA, (pk, eleccion_id, esperada_id, clave, estado, imagen, motivo, fhc, num)
    )
    _enlazar(acta, "eleccion", eleccion)
    esperada = None
    if esperada_id is not None:
        esperada = _instancia(
            ActaEsperada,
            ("id", "eleccion_id", "no_aplica"),
            (esperada_id, eleccion_id, _json(no_aplica)),
        )
    _enlazar(acta, "esperada", esperada)
    return acta


_CAMPOS_ACTA = (
    "id",
    "eleccion_id",
    "esperada_id",
    "clave_acta",
    "estado",
    "imagen_id",
    "motivo_sin_acta",
    "fecha_hora_captura",
    "num_capturas",
)


def _asignacion(
    fila: Sequence[Any], *, usuario: AbstractBaseUser, tarea: Tarea, acta: Acta
) -> Asignacion:
    asignacion = _instancia(
        Asignacion,
        ("id", "acta_id", "usuario_id", "tarea", "hasta"),
        (fila[0], acta.pk, usuario.pk, tarea, fila[1]),
    )
    _enlazar(asignacion, "acta", acta)
    _enlazar(asignacion, "usuario", usuario)
    return asignacion


def _capturas(filas: Sequence[Sequence[Any]], acta: Acta) -> list[Captura]:
    capturas = []
    for pk, capturista, valores in filas:
        captura = _instancia(
            Captura,
            ("id", "acta_id", "capturista_id", "valores"),
            (pk, acta.pk, capturista, _json(valores)),
        )
        _enlazar(captura, "acta", acta)
        capturas.append(captura)
    return capturas


def _avance(anterior: str, estado: Estado) -> str:
    """registrar_evento's rule: the cached state moves forward, never back."""
    return estado if ESTADO_ORDEN[estado] > ESTADO_ORDEN[Estado(anterior)] else anterior


def capturar_asignada(
    *,
    usuario: AbstractBaseUser,
    clave: str,
    valores: Mapping[str, str],
    cuando: datetime,
    catd: str,
) -> tuple[Acta, Resultado] | None:
    """Record the capture of the acta this capturista holds (None: they hold no claim on
    ``clave``; the caller tells why). Runs inside the caller's transaction."""
    with _cursor() as cursor:
        cursor.execute(_ASIGNADA, {"usuario": usuario.pk, "tarea": Tarea.CAPTURA, "clave": clave})
        fila = cursor.fetchone()
        if fila is None:
            return None
        asignacion_id = fila[0]
        acta = _acta(fila[2:15])
        previas = _capturas([_json(c) for c in _json(fila[15]) or []], acta)
        if len(previas) != acta.num_capturas:
            # Captured by someone else while we waited for the lock: read them again.
            cursor.execute(_CAPTURAS, [acta.pk])
            previas = _capturas(cursor.fetchall(), acta)
        revisar_capturable(acta, previas=previas, usuario=usuario)
        limpios = validar_valores(acta, valores)
        verificada = bool(previas) and not campos_en_desacuerdo(previas[0].valores, limpios)
        capturada = _avance(acta.estado, Estado.CAPTURADA)
        final = _avance(capturada, Estado.VERIFICADA) if verificada else capturada
        cursor.execute(
            _REGISTRAR,
            {
                "acta": acta.pk,
                "usuario": usuario.pk,
                "valores": json.dumps(limpios),
                "cuando": cuando,
                "ahora": timezone.now(),
                "estado": final,
                "num_capturas": len(previas) + 1,
                "verificada": verificada,
                "catd": catd,
                "primera": previas[0].pk if previas else None,
                "tipo1": TipoEvento.CAPTURA.value,
                "anterior1": acta.estado,
                "nuevo1": capturada,
                "tipo2": TipoEvento.VERIFICACION.value,
                "anterior2": capturada,
                "nuevo2": final,
                "asignacion": asignacion_id,
            },
        )
        _, cerradas = cursor.fetchone()
    if cerradas != 1:
        raise asignacion_perdida(acta)
    acta.estado, acta.num_capturas = final, len(previas) + 1
    if acta.fecha_hora_captura is None:
        acta.fecha_hora_captura = cuando
    if verificada:
        acta.valores, acta.fecha_hora_verificacion = dict(limpios), cuando
    if not previas:
        return acta, Resultado.PRIMERA_CAPTURA
    return acta, Resultado.VERIFICADA if verificada else Resultado.COTEJO


def siguiente_captura(
    *, usuario: AbstractBaseUser, ahora: datetime, hasta: datetime
) -> Asignacion | None:
    """The acta this capturista captures next, claimed until ``hasta`` (queue.siguiente for
    the capture task). Runs inside the caller's transaction."""
    with _cursor() as cursor:
        cursor.execute(_PROPIAS, [usuario.pk])
        propias = cursor.fetchall()
        if propias:
            propia = propias[0]
            acta = _acta(propia[3:16])
            pendiente = acta.estado != Estado.VERIFICADA and not acta.motivo_sin_acta
            if propia[2] == Tarea.CAPTURA and pendiente:
                cursor.execute(_EXTENDER, [hasta, propia[0], usuario.pk])
                if cursor.rowcount == 1:
                    return _asignacion(
                        (propia[0], hasta), usuario=usuario, tarea=Tarea.CAPTURA, acta=acta
                    )
            cursor.execute(_SOLTAR, [usuario.pk])
        parametros = {"usuario": usuario.pk, "tarea": Tarea.CAPTURA, "ahora": ahora, "hasta": hasta}
        for _ in range(_INTENTOS):
            cursor.execute(_TOMAR, parametros)
            fila = cursor.fetchone()
            if fila is None:
                return None
            if fila[0] is not None:
                return _asignacion(fila, usuario=usuario, tarea=Tarea.CAPTURA, acta=_acta(fila[2:]))
    return None
