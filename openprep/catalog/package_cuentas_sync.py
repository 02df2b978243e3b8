"""The package's CATDs and drill accounts compared with the database, and written.

Called by :mod:`openprep.catalog.sync` like the other tables: a CATD is keyed by its
clave (compared: nombre), an account by its username (compared: role and CATD). The
package adds and updates; it never removes a CATD or an account (accounts are also
made with ``openprep operador add``; removing a row from the package leaves them), and
never resets a password: an existing account with the same role and CATD is unchanged.

Some problems can only be seen with the database: a CATD the package names without
defining it must exist, and a username already taken by a user who is not an operator
is refused. They are raised together as one :class:`PackageError`, before anything is
written.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model

from openprep.accounts.models import CATD, Operador, Rol
from openprep.accounts.services import registrar_catd, registrar_operador
from openprep.catalog.errors import PackageError, Problema
from openprep.catalog.models import AccionCambio
from openprep.catalog.package_spec import ARCHIVO_OPERADORES, PaqueteElectoral

if TYPE_CHECKING:
    from openprep.catalog.sync import Cambio

TABLA_CATD = "CATD"
TABLA_OPERADORES = "operadores"

Diferencia = tuple[str, Hashable, str, AccionCambio, int | None, Any, Any]
"""A :class:`~openprep.catalog.sync.Cambio`'s fields, in order."""


def diferencias_cuentas(paquete: PaqueteElectoral) -> list[Diferencia]:
    """CATDs and accounts to create or update; raises the problems only the database shows."""
    problemas = _problemas(paquete)
    if problemas:
        raise PackageError(problemas)
    cambios: list[Diferencia] = []
    existentes = {
        c.clave: c for c in CATD.objects.filter(clave__in=[c.clave for c in paquete.catds])
    }
    for spec in paquete.catds:
        catd = existentes.get(spec.clave)
        despues = {"nombre": spec.nombre}
        if catd is None:
            cambios.append(
                (TABLA_CATD, spec.clave, spec.clave, AccionCambio.CREADO, None, None, despues)
            )
        elif catd.nombre != spec.nombre:
            antes = {"nombre": catd.nombre}
            cambios.append(
                (
                    TABLA_CATD,
                    spec.clave,
                    spec.clave,
                    AccionCambio.MODIFICADO,
                    catd.pk,
                    antes,
                    despues,
                )
            )
    operadores = {
        o.user.get_username(): o
        for o in Operador.objects.select_related("user", "catd").filter(
            user__username__in=[o.usuario for o in paquete.operadores]
        )
    }
    for spec in paquete.operadores:
        despues = {"rol": spec.rol, "catd": spec.catd}
        operador = operadores.get(spec.usuario)
        if operador is None:
            accion, pk, antes = AccionCambio.CREADO, None, None
        else:
            antes = {"rol": operador.rol, "catd": operador.catd.clave if operador.catd else ""}
            if antes == despues:
                continue
            accion, pk = AccionCambio.MODIFICADO, operador.pk
        cambios.append((TABLA_OPERADORES, spec.usuario, spec.usuario, accion, pk, antes, despues))
    return cambios


def _problemas(paquete: PaqueteElectoral) -> list[Problema]:
    problemas = []
    registradas = set(
        CATD.objects.filter(clave__in={r.clave for r in paquete.referencias_catd}).values_list(
            "clave", flat=True
        )
    )
    for ref in paquete.referencias_catd:
        if ref.clave not in registradas:
            problemas.append(
                Problema(
                    ref.archivo,
                    ref.linea,
                    "CATD",
                    f"la CATD {ref.clave} no está en catd.csv ni registrada en openprep.",
                    "Agréguela a catd.csv (CLAVE,NOMBRE) o regístrela con «openprep catd add».",
                )
            )
    User = get_user_model()
    sin_rol = set(
        User.objects.filter(
            **{f"{User.USERNAME_FIELD}__in": [o.usuario for o in paquete.operadores]},
            operador__isnull=True,
        ).values_list(User.USERNAME_FIELD, flat=True)
    )
    for spec in paquete.operadores:
        if spec.usuario in sin_rol:
            problemas.append(
                Problema(
                    ARCHIVO_OPERADORES,
                    spec.linea,
                    "USUARIO",
                    f"ya existe el usuario {spec.usuario}, pero no es un operador de openprep.",
                    "Use otro nombre de usuario en el paquete; esa cuenta no se modifica.",
                )
            )
    return problemas


def aplicar_catds(creados: Iterable[Cambio], modificados: Iterable[Cambio]) -> None:
    for c in creados:
        registrar_catd(clave=str(c.clave), nombre=(c.despues or {})["nombre"])
    for c in modificados:
        CATD.objects.filter(pk=c.pk).update(nombre=(c.despues or {})["nombre"])


def aplicar_operadores(
    paquete: PaqueteElectoral, creados: Iterable[Cambio], modificados: Iterable[Cambio]
) -> None:
    """Create accounts (password hashed, never logged) and update roles; passwords stay."""
    specs = {o.usuario: o for o in paquete.operadores}
    catds = {c.clave: c for c in CATD.objects.all()}
    for c in creados:
        spec = specs[str(c.clave)]
        registrar_operador(
            usuario=spec.usuario,
            rol=Rol(spec.rol),
            clave=spec.clave,
            catd=catds.get(spec.catd),
        )
    for c in modificados:
        spec = specs[str(c.clave)]
        operador = Operador.objects.get(pk=c.pk)
        operador.rol = spec.rol
        operador.catd = catds.get(spec.catd)
        if spec.rol != Rol.COORDINADOR:
            operador.todas_las_catd = False
            operador.catds_adicionales.clear()
        operador.save()
