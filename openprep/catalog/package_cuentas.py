"""``catd.csv`` and ``operadores.csv``: the package's CATDs and the accounts of a drill.

Both files are optional. ``catd.csv`` lists the CATDs (``CLAVE,NOMBRE``) that the
``CATD`` column of ``casillas.csv`` and ``operadores.csv`` name; a CATD named but not
listed must already exist in the database (checked at import, :mod:`package_cuentas_sync`).
``operadores.csv`` (``USUARIO,ROL,CATD,CLAVE``) creates accounts for a simulacro: its
passwords are validated here with Django's validators, hashed at import and never
written anywhere else.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError

from openprep.accounts.models import ROLES_CON_CATD, Rol
from openprep.catalog.package_files import Fila, Problemas, leer_csv
from openprep.catalog.package_rows import Casillas, clave_catd
from openprep.catalog.package_spec import (
    ARCHIVO_CASILLAS,
    ARCHIVO_CATD,
    ARCHIVO_OPERADORES,
    COLUMNAS_CATD,
    COLUMNAS_OPERADORES,
    CatdSpec,
    OperadorSpec,
    ReferenciaCatd,
)


def leer_catds(directorio: Path, problemas: Problemas) -> dict[str, CatdSpec] | None:
    """The CATDs of ``catd.csv`` by clave; ``None`` when the package has no such file."""
    if not (directorio / ARCHIVO_CATD).exists():
        return None
    leido = leer_csv(directorio, ARCHIVO_CATD, problemas, requeridas=COLUMNAS_CATD)
    catds: dict[str, CatdSpec] = {}
    if leido is None:
        return catds
    lineas: dict[str, int] = {}
    for fila in leido[1]:
        clave = clave_catd(fila, "CLAVE", requerido=True)
        nombre = fila.texto("NOMBRE", max_len=200)
        if clave is not None and clave in lineas:
            fila.error(
                "CLAVE",
                f"la CATD {clave} ya está en la línea {lineas[clave]}.",
                "Cada CATD va en una sola fila.",
            )
            continue
        if clave is not None:
            lineas[clave] = fila.linea
        if clave is not None and nombre is not None:
            # As registrar_catd stores it, so that importing again changes nothing.
            catds[clave] = CatdSpec(clave=clave, nombre=" ".join(nombre.split()))
    return catds


def leer_operadores(directorio: Path, problemas: Problemas) -> list[OperadorSpec]:
    """The drill accounts of ``operadores.csv`` (none when the file is absent)."""
    if not (directorio / ARCHIVO_OPERADORES).exists():
        return []
    leido = leer_csv(directorio, ARCHIVO_OPERADORES, problemas, requeridas=COLUMNAS_OPERADORES)
    if leido is None:
        return []
    User = get_user_model()
    operadores: list[OperadorSpec] = []
    lineas: dict[str, int] = {}
    for fila in leido[1]:
        antes = len(problemas.items)
        usuario = fila.texto("USUARIO", max_len=150)
        if usuario is not None:
            try:
                User.username_validator(usuario)
            except ValidationError:
                fila.error(
                    "USUARIO",
                    f"el nombre de usuario {usuario!r} no es válido.",
                    "Use letras, dígitos y los signos @ . + - _ (sin espacios).",
                )
            if usuario in lineas:
                fila.error(
                    "USUARIO",
                    f"el usuario {usuario} ya está en la línea {lineas[usuario]}.",
                    "Cada persona tiene una sola cuenta y una sola fila.",
                )
            lineas.setdefault(usuario, fila.linea)
        rol = _rol(fila.texto("ROL", max_len=20), fila)
        catd = clave_catd(fila, "CATD", requerido=rol is not None and rol in ROLES_CON_CATD)
        clave = fila.celdas.get("CLAVE")
        if clave is not None and usuario is not None:
            _validar_clave(clave, usuario=usuario, fila=fila)
        if len(problemas.items) == antes and None not in (usuario, rol, clave):
            assert usuario is not None and rol is not None and clave is not None
            operadores.append(
                OperadorSpec(
                    linea=fila.linea, usuario=usuario, rol=rol.value, catd=catd or "", clave=clave
                )
            )
    return operadores


def _rol(texto: str | None, fila: Fila) -> Rol | None:
    if texto is None:
        return None
    try:
        return Rol(texto.lower())
    except ValueError:
        fila.error(
            "ROL",
            f"el rol {texto!r} no existe.",
            f"Use uno de: {', '.join(r.value for r in Rol)}.",
        )
        return None


def _validar_clave(clave: str, *, usuario: str, fila: Fila) -> None:
    if not clave:
        fila.error(
            "CLAVE", "la contraseña está vacía.", "Escriba una contraseña para el simulacro."
        )
        return
    User = get_user_model()
    try:
        password_validation.validate_password(clave, User(**{User.USERNAME_FIELD: usuario}))
    except ValidationError as exc:
        fila.error(
            "CLAVE",
            "la contraseña no es aceptable: " + " ".join(exc.messages),
            "Use al menos 10 caracteres, no solo dígitos, que no se parezcan al usuario.",
        )


def referencias_catd(
    *,
    catds: dict[str, CatdSpec] | None,
    casillas: Casillas | None,
    operadores: list[OperadorSpec],
) -> tuple[ReferenciaCatd, ...]:
    """CATDs that casillas or accounts name without ``catd.csv`` defining them."""
    definidas = catds or {}
    referencias = [
        ReferenciaCatd(clave, ARCHIVO_CASILLAS, linea)
        for clave, linea in (casillas.catds if casillas is not None else ())
        if clave not in definidas
    ]
    referencias += [
        ReferenciaCatd(o.catd, ARCHIVO_OPERADORES, o.linea)
        for o in operadores
        if o.catd and o.catd not in definidas
    ]
    return tuple(referencias)
