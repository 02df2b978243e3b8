"""Startup check: every URL of the project leads to a view that declares its access policy.

Registered by the app, it runs with ``manage.py check``, ``runserver``, every management
command that checks, and the test suite; one view without ``@public`` or ``@roles`` is an
Error, so the process refuses to start (ARCHITECTURE.md convention 5).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.urls import URLPattern, URLResolver, get_resolver

from openprep.accounts.access import Policy, policy_of


@dataclass(frozen=True)
class RoutedView:
    route: str  # the pattern from the root, e.g. "admin/accounts/catd/<path:object_id>/"
    name: str  # "namespace:name", or "" when the pattern has no name
    callback: Callable[..., Any]
    policy: Policy | None


def iter_views(urlconf: str | Any | None = None) -> Iterator[RoutedView]:
    """Every view reachable from ``urlconf`` (the project's ROOT_URLCONF by default)."""
    yield from _walk(get_resolver(urlconf).url_patterns, route="", namespace="")


def _walk(
    patterns: Iterable[URLPattern | URLResolver], *, route: str, namespace: str
) -> Iterator[RoutedView]:
    for pattern in patterns:
        here = route + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, route=here, namespace=inner)
        else:
            yield RoutedView(
                route=here,
                name=f"{namespace}{pattern.name}" if pattern.name else "",
                callback=pattern.callback,
                policy=policy_of(pattern.callback),
            )


def check_access_policies(
    app_configs: Any = None, *, urlconf: str | Any | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """openprep.E001 for each view without a declared access policy."""
    if urlconf is None and not getattr(settings, "ROOT_URLCONF", None):
        return [
            Error(
                "No hay ROOT_URLCONF: no se puede comprobar la política de acceso de las vistas.",
                hint="Defina ROOT_URLCONF = 'openprep.urls' en la configuración.",
                id="openprep.E002",
            )
        ]
    errors: list[CheckMessage] = []
    for view in iter_views(urlconf):
        if view.policy is None:
            callback = view.callback
            nombre = f"{callback.__module__}.{getattr(callback, '__qualname__', callback)}"
            errors.append(
                Error(
                    f"La vista {nombre} (ruta '{view.route}') no declara su política de acceso.",
                    hint="Decórela con @public o @roles(...) de openprep.accounts.access.",
                    obj=view.name or view.route,
                    id="openprep.E001",
                )
            )
    return errors
