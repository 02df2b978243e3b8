"""The Django admin, open only to the administrador role.

Every admin URL (the site's own pages and every registered model's, whatever app
registers it) gets the ``@roles(Rol.ADMINISTRADOR)`` policy when the site builds its URLs,
so the startup check sees it and a non-administrator gets 403 rather than the admin's
own login form. The admin's login page sends people to the one login page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, reverse

from openprep.accounts.access import public, rol_de, roles
from openprep.accounts.models import Rol

solo_administrador = roles(Rol.ADMINISTRADOR)


@public
def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin's login URL: the project's login page, coming back to the admin."""
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"), settings.LOGIN_URL)


class OpenprepAdminSite(admin.AdminSite):
    site_header = "openprep: administración"
    site_title = "openprep"
    index_title = "Catálogos, operadores y CATD"

    def has_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and rol_de(request.user) == Rol.ADMINISTRADOR)

    def get_urls(self) -> list[URLPattern | URLResolver]:
        urlpatterns = super().get_urls()
        _guard(urlpatterns)
        return urlpatterns


def _guard(patterns: Iterable[URLPattern | URLResolver]) -> None:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _guard(pattern.url_patterns)
        elif pattern.name == "login" and _is_site_login(pattern.callback):
            pattern.callback = admin_login
        else:
            pattern.callback = solo_administrador(pattern.callback)


def _is_site_login(callback: Any) -> bool:
    return getattr(callback, "__func__", None) is admin.AdminSite.login
