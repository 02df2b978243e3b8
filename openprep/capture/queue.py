"""Work queues: which acta a capturista or a verificador works on next, claimed atomically.

A claim (:class:`Asignacion`) is one row per acta (unique), held by one person until
``hasta`` (``settings.OPENPREP_ASIGNACION_MINUTOS`` after it was taken), then free for the
next person who asks. Every change to an acta's claim happens under that acta's row lock
(PostgreSQL) or the database's write lock (SQLite's IMMEDIATE transactions): the queue
picks its candidate with ``SELECT … FOR UPDATE SKIP LOCKED`` (so two people asking at once
lock different actas) and then takes it with a conditional statement that must touch one
row (ARCHITECTURE.md convention 6); recording the work deletes the claim the same way, so
a claim taken over after it expired makes the late capture fail instead of doubling it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from openprep.capture import postgres
from openprep.capture.cotejo import cotejar
from openprep.capture.models import Asignacion, Captura, Tarea
from openprep.capture.services import (
    CAPTURAS_REQUERIDAS,
    ActaNoEncontrada,
    CaptureError,
    ConflictoDeEstado,
    Resultado,
    asignacion_perdida,
    capturar_y_verificar,
    verificar,
)
from openprep.intake.models import Acta, Estado, EventoActa, TipoEvento

# A candidate may be claimed by someone else between our read and our lock (PostgreSQL,
# READ COMMITTED): then the next candidate is tried, a few times at most.
_INTENTOS = 5


def _postgresql() -> bool:
    """Whether the capture path's hand-written statements (:mod:`.postgres`) apply."""
    return connection.vendor == "postgresql"


def vigencia(ahora: datetime) -> datetime:
    """Until when an acta claimed at ``ahora`` stays with its person."""
    return ahora + timedelta(minutes=settings.OPENPREP_ASIGNACION_MINUTOS)


def _reclamada(ahora: datetime) -> Exists:
    return Exists(Asignacion.objects.filter(acta=OuterRef("pk"), hasta__gt=ahora))


def por_capturar(usuario: AbstractBaseUser, ahora: datetime) -> QuerySet[Acta]:
    """Actas waiting for a capture this person may make, oldest digitalization first:
    with an image, not SIN ACTA, not verified, fewer than two captures, none of them
    theirs, and not claimed by someone else (or claimed, but expired)."""
    # The filter is the partial index acta_por_capturar's condition and the order its
    # key: PostgreSQL walks the index and stops at the first acta left after the two
    # per-row exclusions (both unique-index lookups).
    return (
        Acta.objects.filter(
            imagen__isnull=False,
            motivo_sin_acta="",
            estado__in=(Estado.DIGITALIZADA, Estado.CAPTURADA),
            num_capturas__lt=CAPTURAS_REQUERIDAS,
        )
        .exclude(Exists(Captura.objects.filter(acta=OuterRef("pk"), capturista=usuario)))
        .exclude(_reclamada(ahora))
        .select_related("eleccion", "esperada")
        .order_by("fecha_hora_digitalizacion", "pk")
    )


def por_verificar(usuario: AbstractBaseUser, ahora: datetime) -> QuerySet[Acta]:
    """Actas waiting for this verificador, oldest capture first: two disagreeing captures,
    none of them theirs (cotejo), or a SIN ACTA someone else registered (confirmation)."""
    cotejo = (
        Q(motivo_sin_acta="")
        & Q(num_capturas__gte=CAPTURAS_REQUERIDAS)
        & ~Q(Exists(Captura.objects.filter(acta=OuterRef("pk"), capturista=usuario)))
    )
    sin_acta = ~Q(motivo_sin_acta="") & ~Q(
        Exists(
            EventoActa.objects.filter(
                acta=OuterRef("pk"), tipo=TipoEvento.SIN_ACTA, usuario=usuario
            )
        )
    )
    return (
        Acta.objects.filter(estado=Estado.CAPTURADA)
        .filter(cotejo | sin_acta)
        .exclude(_reclamada(ahora))
        .select_related("eleccion", "esperada")
        .order_by("fecha_hora_captura", "pk")
    )


def _sigue_pendiente(acta: Acta, tarea: Tarea) -> bool:
    if acta.estado == Estado.VERIFICADA:
        return False
    return tarea == Tarea.VERIFICACION or not acta.motivo_sin_acta


@transaction.atomic
def siguiente(*, usuario: AbstractBaseUser, tarea: Tarea, ahora: datetime) -> Asignacion | None:
    """The acta this person works on next, claimed until :func:`vigencia` (None: nothing is
    waiting). Someone who already holds a claim for this task gets it again, extended."""
    hasta = vigencia(ahora)
    if tarea == Tarea.CAPTURA and _postgresql():
        return postgres.siguiente_captura(usuario=usuario, ahora=ahora, hasta=hasta)
    propia = (
        Asignacion.objects.select_related("acta__eleccion", "acta__esperada")
        .filter(usuario=usuario)
        .first()
    )
    if (
        propia is not None
        and propia.tarea == tarea
        and _sigue_pendiente(propia.acta, tarea)
        and Asignacion.objects.filter(pk=propia.pk, usuario=usuario).update(hasta=hasta) == 1
    ):
        propia.hasta = hasta
        return propia
    Asignacion.objects.filter(usuario=usuario).delete()
    pendientes = (por_capturar if tarea == Tarea.CAPTURA else por_verificar)(usuario, ahora)
    if connection.features.has_select_for_update_skip_locked:
        pendientes = pendientes.select_for_update(of=("self",), skip_locked=True)
    for _ in range(_INTENTOS):
        acta = pendientes.first()
        if acta is None:
            return None
        asignacion = _tomar(acta, usuario=usuario, tarea=tarea, hasta=hasta, ahora=ahora)
        if asignacion is not None:
            return asignacion
    return None


def _tomar(
    acta: Acta, *, usuario: AbstractBaseUser, tarea: Tarea, hasta: datetime, ahora: datetime
) -> Asignacion | None:
    """Claim a locked candidate: a new claim, or take over an expired one (None: someone
    claimed it after our candidate was read)."""
    actual = Asignacion.objects.filter(acta=acta).first()
    if actual is None:
        return Asignacion.objects.create(acta=acta, usuario=usuario, tarea=tarea, hasta=hasta)
    tomada = Asignacion.objects.filter(pk=actual.pk, hasta__lte=ahora).update(
        usuario=usuario, tarea=tarea, hasta=hasta
    )
    if tomada != 1:
        return None
    actual.acta, actual.usuario, actual.tarea, actual.hasta = acta, usuario, tarea, hasta
    return actual


def asignacion_de(*, usuario: AbstractBaseUser, clave_acta: str, tarea: Tarea) -> Asignacion:
    """This person's claim on this acta for this task; 404 for no such acta, 409 for an
    acta they do not hold."""
    clave = clave_acta.strip().upper()
    # A person holds one claim (rarely two, racing themselves): read theirs through the
    # indexed usuario, not the acta's key.
    for asignacion in Asignacion.objects.select_related("acta").filter(
        usuario=usuario, tarea=tarea
    ):
        if asignacion.acta.clave_acta == clave:
            return asignacion
    raise _sin_asignacion(clave)


def _sin_asignacion(clave: str) -> CaptureError:
    """Why this person holds no claim on this acta: 404 for no such acta, 409 if not theirs."""
    if not Acta.objects.filter(clave_acta=clave).exists():
        return ActaNoEncontrada(
            f"no hay un acta registrada con la CLAVE_ACTA {clave}.",
            hint="Revise la clave; las actas llegan a la cola al digitalizarse.",
        )
    return ConflictoDeEstado(
        f"el acta {clave} no le está asignada.",
        hint="Trabaje el acta que le asigna la cola: pida la siguiente.",
    )


def _cerrar(asignacion: Asignacion, usuario: AbstractBaseUser) -> None:
    """Delete the claim the work was done under; it must still be this person's."""
    borradas, _ = Asignacion.objects.filter(pk=asignacion.pk, usuario=usuario).delete()
    if borradas != 1:
        raise asignacion_perdida(asignacion.acta)


@transaction.atomic
def capturar_asignada(
    *,
    usuario: AbstractBaseUser,
    clave_acta: str,
    valores: Mapping[str, str],
    cuando: datetime,
    catd: str = "",
) -> tuple[Acta, Resultado]:
    """Record the capture of the acta this capturista holds, and free the claim."""
    if _postgresql():
        clave = clave_acta.strip().upper()
        hecho = postgres.capturar_asignada(
            usuario=usuario, clave=clave, valores=valores, cuando=cuando, catd=catd
        )
        if hecho is None:
            raise _sin_asignacion(clave)
        return hecho
    asignacion = asignacion_de(usuario=usuario, clave_acta=clave_acta, tarea=Tarea.CAPTURA)
    resultado = capturar_y_verificar(
        acta=asignacion.acta, usuario=usuario, valores=valores, cuando=cuando, catd=catd
    )
    _cerrar(asignacion, usuario)
    return asignacion.acta, resultado


@transaction.atomic
def verificar_asignada(
    *,
    usuario: AbstractBaseUser,
    clave_acta: str,
    datos: Mapping[str, str],
    cuando: datetime,
    catd: str = "",
) -> Acta:
    """Record the cotejo (or SIN ACTA confirmation) of the acta this verificador holds."""
    asignacion = asignacion_de(usuario=usuario, clave_acta=clave_acta, tarea=Tarea.VERIFICACION)
    acta = asignacion.acta
    if acta.motivo_sin_acta:
        if dict(datos) != {"confirmar": "1"}:
            raise CaptureError(
                f"el acta {acta.clave_acta} está registrada SIN ACTA "
                f"({acta.motivo_sin_acta}): solo se confirma.",
                hint="Envíe confirmar=1 si la imagen y el registro lo confirman; si no, "
                "libere el acta y avise al coordinador.",
            )
        acta = verificar(acta=acta, usuario=usuario, cuando=cuando, catd=catd)
    else:
        acta = cotejar(acta=acta, usuario=usuario, decisiones=datos, cuando=cuando, catd=catd)
    _cerrar(asignacion, usuario)
    return acta


@transaction.atomic
def liberar(*, usuario: AbstractBaseUser, clave_acta: str, tarea: Tarea) -> Acta:
    """Give a claimed acta back to its queue."""
    asignacion = asignacion_de(usuario=usuario, clave_acta=clave_acta, tarea=tarea)
    _cerrar(asignacion, usuario)
    return asignacion.acta
