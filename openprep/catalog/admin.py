"""The catalog in the Django admin: review it, and correct it before the election.

The election package is the catalog's source (docs/paquete-electoral.md): what decides
the ballots and the expected actas (contenders, candidaturas' territories, actas
esperadas) is read-only here and changes by re-importing the package. Once publication
has started the catalog is locked: only a holder of ``catalog.forzar_cambios`` may
still edit, and each edit is recorded as a :class:`CambioCatalogo`.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import admin
from django.db.models import Model, QuerySet
from django.forms.models import model_to_dict
from django.http import HttpRequest
from django.utils import timezone

from openprep.catalog.models import (
    AccionCambio,
    ActaEsperada,
    CambioCatalogo,
    Candidatura,
    Casilla,
    Contendiente,
    Eleccion,
    Proceso,
)
from openprep.catalog.services import catalogo_bloqueado, puede_forzar, registrar_cambio

ORIGEN_ADMIN = "administración (Django admin)"


def _campos(obj: Model) -> dict[str, Any]:
    return {k: v for k, v in model_to_dict(obj).items() if k != "id"}


class CatalogoAdmin(admin.ModelAdmin):
    """Editable before publication starts; afterwards only by an administrator, on the record."""

    def editable(self, request: HttpRequest) -> bool:
        return not catalogo_bloqueado() or puede_forzar(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows come and go only with the package: the admin edits fields

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.editable(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        antes = _campos(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        if catalogo_bloqueado():
            despues = _campos(obj)
            if antes is not None:
                distintos = [k for k in despues if antes.get(k) != despues[k]]
                antes = {k: antes.get(k) for k in distintos}
                despues = {k: despues[k] for k in distintos}
            self._registrar(
                request,
                obj,
                AccionCambio.MODIFICADO if change else AccionCambio.CREADO,
                antes,
                despues,
            )

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        antes = _campos(obj)
        super().delete_model(request, obj)
        if catalogo_bloqueado():
            self._registrar(request, obj, AccionCambio.ELIMINADO, antes, None)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    def _registrar(
        self,
        request: HttpRequest,
        obj: Model,
        accion: AccionCambio,
        antes: dict[str, Any] | None,
        despues: dict[str, Any] | None,
    ) -> None:
        registrar_cambio(
            usuario=request.user,
            cuando=timezone.now(),
            origen=ORIGEN_ADMIN,
            tabla=str(obj._meta.verbose_name_plural),
            objeto=str(obj),
            accion=accion,
            antes=antes,
            despues=despues,
        )


class SoloLectura(admin.ModelAdmin):
    """Shown for review; changed only by importing the package."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ProcesoAdmin(CatalogoAdmin):
    list_display = (
        "instituto",
        "entidad",
        "zona_horaria",
        "inicio_publicacion",
        "fin_publicacion",
        "intervalo_minutos",
        "representantes",
        "etiquetas",
    )
    search_fields = ("instituto", "entidad")
    # The entidad and time zone shape every casilla and timestamp: the package sets them.
    readonly_fields = ("id_entidad", "entidad", "zona_horaria", "creado", "actualizado")


class EleccionAdmin(CatalogoAdmin):
    list_display = ("nombre", "clave", "ambito", "tipo_acta", "tipo_acta_especial", "proceso")
    list_filter = ("ambito", "proceso")
    search_fields = ("nombre", "clave")
    fields = (
        "nombre",
        "clave",
        "ambito",
        "tipo_acta",
        "tipo_acta_especial",
        "zona_horaria",
        "proceso",
    )
    readonly_fields = (
        "clave",
        "ambito",
        "tipo_acta",
        "tipo_acta_especial",
        "zona_horaria",
        "proceso",
    )


class ContendienteAdmin(SoloLectura):
    list_display = ("clave", "eleccion", "orden", "tipo")
    list_filter = ("eleccion", "tipo")
    search_fields = ("clave",)
    ordering = ("eleccion", "orden")


class CandidaturaAdmin(CatalogoAdmin):
    list_display = ("contendiente", "eleccion", "id_territorio", "propietario", "suplente")
    list_filter = ("eleccion", "id_territorio")
    search_fields = ("contendiente__clave", "propietario", "suplente")
    fields = ("eleccion", "contendiente", "id_territorio", "propietario", "suplente")
    readonly_fields = ("eleccion", "contendiente", "id_territorio")
    list_select_related = ("contendiente", "eleccion")


class CasillaAdmin(CatalogoAdmin):
    list_display = (
        "__str__",
        "entidad",
        "distrito",
        "municipio",
        "seccion",
        "tipo",
        "id_casilla",
        "ext_contigua",
        "ubicacion",
        "lista_nominal",
    )
    list_filter = ("tipo", "ubicacion", "id_distrito", "id_municipio")
    search_fields = ("=seccion", "distrito", "municipio")
    # Identity and territory decide the casilla's actas and ballots: the package sets them.
    readonly_fields = (
        "id_entidad",
        "entidad",
        "id_distrito",
        "id_municipio",
        "seccion",
        "tipo",
        "id_casilla",
        "ext_contigua",
    )
    ordering = ("id_distrito", "seccion", "tipo", "id_casilla", "ext_contigua")


class ActaEsperadaAdmin(SoloLectura):
    list_display = (
        "clave_acta",
        "eleccion",
        "casilla",
        "tipo_acta",
        "orden",
        "representantes_pp_ci",
        "no_aplica",
    )
    list_filter = ("eleccion", "tipo_acta", "casilla__tipo", "casilla__id_distrito")
    search_fields = ("clave_acta",)
    list_select_related = ("eleccion", "casilla")


class CambioCatalogoAdmin(SoloLectura):
    list_display = ("cuando", "usuario", "tabla", "objeto", "accion", "origen", "motivo")
    list_filter = ("tabla", "accion", "usuario")
    search_fields = ("objeto", "motivo", "origen")
    date_hierarchy = "cuando"
    list_select_related = ("usuario",)


ADMINS: dict[type[Model], type[admin.ModelAdmin]] = {
    Proceso: ProcesoAdmin,
    Eleccion: EleccionAdmin,
    Contendiente: ContendienteAdmin,
    Candidatura: CandidaturaAdmin,
    Casilla: CasillaAdmin,
    ActaEsperada: ActaEsperadaAdmin,
    CambioCatalogo: CambioCatalogoAdmin,
}

# The admin site exists only when django.contrib.admin is installed (settings.py); this
# module can still be imported without it, e.g. to check the classes above.
if apps.is_installed("django.contrib.admin"):
    for _model, _admin in ADMINS.items():
        admin.site.register(_model, _admin)
