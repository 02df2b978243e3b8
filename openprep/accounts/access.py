"""Who may do what: the access policy every view declares, and the checks services make.

Every view in the project's URLs carries one policy, set by one of these decorators
(ARCHITECTURE.md convention 5); the system check in :mod:`openprep.accounts.checks`
refuses to start when a view has none.

- ``@public``: anyone, logged in or not (the login page).
- ``@roles(Rol.CAPTURISTA, ...)``: a logged-in operator holding one of these roles.
  Anonymous visitors are sent to the login page; a logged-in user without the role
  gets 403 with a Spanish explanation.

Class-based views are wrapped at ``as_view()``: ``roles(Rol.X)(MiVista.as_view())``.

Services call :func:`require_role` and :func:`coordinator_can_see` themselves, so the
separation of duties holds whichever screen or command calls them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from openprep.accounts.models import CATD, Operador, Rol
from openprep.core.errors import UserError

POLICY_ATTR = "openprep_access"

View = TypeVar("View", bound=Callable[..., HttpResponse])


@dataclass(frozen=True)
class Policy:
    """What a view allows: everyone (``public``) or the operators holding ``roles``."""

    public: bool = False
    roles: frozenset[Rol] = frozenset()

    def describe(self) -> str:
        if self.public:
            return "pública"
        return "roles: " + ", ".join(sorted(r.value for r in self.roles))


class AccesoDenegado(UserError):
    """A person asked for something their role (or CATD) does not allow."""


def policy_of(view: Callable[..., Any]) -> Policy | None:
    """The policy a view declares, or None."""
    policy = getattr(view, POLICY_ATTR, None)
    return policy if isinstance(policy, Policy) else None


def public(view: View) -> View:
    """Mark a view as open to everyone, logged in or not.

    It marks a wrapper, not ``view`` itself, so the same function routed elsewhere
    without ``@public`` still has no policy (and the startup check still sees it).
    """

    @functools.wraps(view)
    def open_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return view(request, *args, **kwargs)

    setattr(open_view, POLICY_ATTR, Policy(public=True))
    return login_not_required(open_view)  # type: ignore[return-value]


def roles(*allowed: Rol) -> Callable[[View], View]:
    """Allow a view only to logged-in operators holding one of ``allowed``."""
    if not allowed or not all(isinstance(r, Rol) for r in allowed):
        raise TypeError("roles() needs at least one Rol")
    policy = Policy(roles=frozenset(allowed))

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            try:
                require_role(request.user, *allowed)
            except AccesoDenegado as exc:
                raise PermissionDenied(exc.text) from exc
            return view(request, *args, **kwargs)

        setattr(guarded, POLICY_ATTR, policy)
        # functools.wraps copies the wrapped view's attributes; LoginRequiredMiddleware
        # must neither skip this view nor send visitors to a view's own login page (the
        # admin's): one login form, settings.LOGIN_URL, for everybody.
        guarded.login_required = True  # type: ignore[attr-defined]
        guarded.login_url = None  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def operador_de(user: Any) -> Operador | None:
    """The operator profile of a user, or None (anonymous, or no role assigned)."""
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.operador
    except Operador.DoesNotExist:
        return None


def rol_de(user: Any) -> Rol | None:
    operador = operador_de(user)
    return Rol(operador.rol) if operador else None


def require_role(user: Any, *allowed: Rol) -> Operador:
    """The user's operator profile if they hold one of ``allowed``; AccesoDenegado if not."""
    operador = operador_de(user)
    if operador is None or not user.is_active:
        nombre = user.get_username() if user is not None and user.is_authenticated else ""
        raise AccesoDenegado(
            f"el usuario {nombre or '(anónimo)'} no tiene un rol asignado.",
            hint="Un administrador debe registrarlo con «openprep operador add».",
        )
    if operador.rol not in allowed:
        requeridos = " o ".join(Rol(r).label.lower() for r in allowed)
        raise AccesoDenegado(
            f"el usuario {user.get_username()} tiene el rol "
            f"{operador.get_rol_display().lower()}; esta acción requiere el rol {requeridos}.",
            hint="Cada tarea la hace una persona distinta con su propio rol.",
        )
    return operador


def catds_visibles(user: Any) -> QuerySet[CATD]:
    """The CATDs whose work a user may see: their own, plus what a coordinator was granted.

    An administrador works centrally and supervises no CATD here.
    """
    operador = operador_de(user)
    if operador is None or not user.is_active:
        return CATD.objects.none()
    if operador.rol == Rol.COORDINADOR and operador.todas_las_catd:
        return CATD.objects.all()
    ids = {operador.catd_id} if operador.catd_id else set()
    if operador.rol == Rol.COORDINADOR:
        ids |= set(operador.catds_adicionales.values_list("pk", flat=True))
    return CATD.objects.filter(pk__in=ids)


def coordinator_can_see(user: Any, catd: CATD | str) -> bool:
    """Whether ``user`` is a coordinator who supervises ``catd`` (a CATD or its clave)."""
    if rol_de(user) != Rol.COORDINADOR:
        return False
    clave = catd.clave if isinstance(catd, CATD) else catd
    return catds_visibles(user).filter(clave=clave).exists()
