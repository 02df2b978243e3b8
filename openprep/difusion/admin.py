"""The difusores' registry in the admin: credentials go in encrypted and never come out.

Passwords and SSH keys are write-only fields: left blank, the stored one stays. Standing
(enabled, strikes, last corte) changes only through the actions, each one recorded as an
:class:`~openprep.difusion.models.Incidente`; deliveries and incidents are read-only.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from openprep.difusion import secretos
from openprep.difusion.models import Difusor, Entrega, Incidente, Protocolo
from openprep.difusion.registro import inhabilitar, rehabilitar
from openprep.difusion.transporte import FallaDeDifusor
from openprep.difusion.transporte_sftp import leer_clave_privada


class DifusorForm(forms.ModelForm):
    enlace = forms.URLField(label="enlace público", required=False, assume_scheme="https")
    contrasena = forms.CharField(
        label="contraseña",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Se guarda cifrada. Déjela vacía para conservar la registrada.",
    )
    clave_ssh = forms.CharField(
        label="llave SSH privada",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Texto de la llave (Ed25519, ECDSA o RSA, sin frase de paso). Se guarda "
        "cifrada y no se vuelve a mostrar; vacía conserva la registrada.",
    )

    class Meta:
        model = Difusor
        fields = [
            "nombre",
            "protocolo",
            "host",
            "puerto",
            "usuario",
            "carpeta",
            "llave_host",
            "contacto",
            "enlace",
            "logo",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        protocolo = data.get("protocolo")
        tiene_clave = bool(data.get("clave_ssh") or self.instance.clave_ssh_cifrada)
        tiene_contrasena = bool(data.get("contrasena") or self.instance.contrasena_cifrada)
        if data.get("clave_ssh"):
            try:
                leer_clave_privada(data["clave_ssh"])
            except FallaDeDifusor as exc:
                self.add_error("clave_ssh", exc.message)
        if protocolo == Protocolo.SFTP and not (tiene_clave or tiene_contrasena):
            raise forms.ValidationError("SFTP necesita una llave SSH privada o una contraseña.")
        if protocolo in (Protocolo.FTP, Protocolo.FTPS) and not tiene_contrasena:
            raise forms.ValidationError("FTP y FTPS necesitan una contraseña.")
        return data

    def save(self, commit: bool = True) -> Difusor:
        difusor: Difusor = super().save(commit=False)
        if self.cleaned_data.get("contrasena"):
            difusor.contrasena_cifrada = secretos.cifrar(self.cleaned_data["contrasena"])
        if self.cleaned_data.get("clave_ssh"):
            difusor.clave_ssh_cifrada = secretos.cifrar(self.cleaned_data["clave_ssh"])
        if commit:
            difusor.save()
        return difusor


@admin.register(Difusor)
class DifusorAdmin(admin.ModelAdmin):
    form = DifusorForm
    list_display = [
        "nombre",
        "protocolo",
        "host",
        "puerto",
        "habilitado",
        "fallas_consecutivas",
        "ultimo_corte",
    ]
    list_filter = ["habilitado", "protocolo"]
    readonly_fields = ["habilitado", "fallas_consecutivas", "ultimo_corte", "creado"]
    actions = ["rehabilitar_difusores", "inhabilitar_difusores"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # its deliveries and incidents belong to the memoria técnica

    @admin.action(description="Rehabilitar (reinicia las fallas; queda registrado)")
    def rehabilitar_difusores(self, request: HttpRequest, queryset: QuerySet[Difusor]) -> None:
        for difusor in queryset:
            rehabilitar(difusor, usuario=request.user, motivo="Rehabilitado en la administración.")
        messages.success(request, f"{queryset.count()} difusor(es) rehabilitado(s).")

    @admin.action(description="Inhabilitar (deja de enviarle cortes; queda registrado)")
    def inhabilitar_difusores(self, request: HttpRequest, queryset: QuerySet[Difusor]) -> None:
        for difusor in queryset:
            inhabilitar(difusor, usuario=request.user, motivo="Inhabilitado en la administración.")
        messages.success(request, f"{queryset.count()} difusor(es) inhabilitado(s).")


class SoloLectura(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Entrega)
class EntregaAdmin(SoloLectura):
    list_display = ["difusor", "corte", "resultado", "inicio", "fin", "intentos", "bytes"]
    list_filter = ["resultado", "difusor"]


@admin.register(Incidente)
class IncidenteAdmin(SoloLectura):
    list_display = ["fecha", "difusor", "tipo", "corte", "usuario"]
    list_filter = ["tipo", "difusor"]
