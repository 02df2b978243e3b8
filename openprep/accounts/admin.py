from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from openprep.accounts.models import CATD, Operador, Rol


@admin.register(CATD)
class CATDAdmin(admin.ModelAdmin):
    list_display = ("clave", "nombre")
    search_fields = ("clave", "nombre")


class OperadorForm(forms.ModelForm):
    class Meta:
        model = Operador
        fields = ("user", "rol", "catd", "catds_adicionales", "todas_las_catd")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("catds_adicionales") and data.get("rol") != Rol.COORDINADOR:
            self.add_error(
                "catds_adicionales", "Solo a un coordinador se le pueden otorgar más CATD."
            )
        return data


@admin.register(Operador)
class OperadorAdmin(admin.ModelAdmin):
    form = OperadorForm
    list_display = ("user", "rol", "catd", "todas_las_catd")
    list_filter = ("rol", "catd")
    search_fields = ("user__username", "user__first_name", "user__last_name")
    autocomplete_fields = ("user",)
    filter_horizontal = ("catds_adicionales",)
