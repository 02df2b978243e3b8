"""Difusores oficiales and what happened to each: deliveries (the outbox) and incidents.

A difusor is a media outlet or university that mirrors the publication folder (DOMAIN.md
§6, seed 001). After every corte the worker writes one :class:`Entrega` per enabled
difusor and delivers it; a difusor that misses three cortes in a row is suspended
(:class:`Incidente`), and the next corte's site shows the notice instead of its link.
Credentials are never stored in clear: see :mod:`openprep.difusion.secretos`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Protocolo(models.TextChoices):
    SFTP = "sftp", "SFTP (SSH)"
    FTP = "ftp", "FTP"
    FTPS = "ftps", "FTPS (FTP sobre TLS explícito)"


PUERTO_PREDETERMINADO = {Protocolo.SFTP: 22, Protocolo.FTP: 21, Protocolo.FTPS: 21}

FALLAS_PARA_SUSPENDER = 3
"""Seed 001: a difusor that fails 3 update periods in a row is cut off."""


class Difusor(models.Model):
    nombre = models.CharField("nombre", max_length=120, unique=True)
    protocolo = models.CharField("protocolo", max_length=8, choices=Protocolo.choices)
    host = models.CharField("servidor", max_length=255)
    puerto = models.PositiveIntegerField("puerto")
    usuario = models.CharField("usuario", max_length=120)
    carpeta = models.CharField(
        "carpeta remota",
        max_length=500,
        default=".",
        help_text="Carpeta de publicación en el servidor del difusor (relativa a su inicio).",
    )
    contrasena_cifrada = models.TextField("contraseña (cifrada)", blank=True, default="")
    clave_ssh_cifrada = models.TextField("llave SSH privada (cifrada)", blank=True, default="")
    llave_host = models.TextField(
        "llave pública del servidor",
        blank=True,
        default="",
        help_text="Línea «tipo base64» de la llave del servidor SSH. Vacía: se registra la "
        "que presente en la primera conexión y después se exige la misma.",
    )
    contacto = models.TextField("contacto técnico", blank=True, default="")
    enlace = models.URLField("enlace público", blank=True, default="")
    logo = models.FileField("logotipo", upload_to="difusores/", blank=True, default="")
    habilitado = models.BooleanField("habilitado", default=True)
    fallas_consecutivas = models.PositiveIntegerField("fallas consecutivas", default=0)
    ultimo_corte = models.CharField("último corte entregado", max_length=40, blank=True, default="")
    creado = models.DateTimeField("alta", auto_now_add=True)

    class Meta:
        ordering = ["nombre"]
        verbose_name = "difusor"
        verbose_name_plural = "difusores"

    def __str__(self) -> str:
        return self.nombre


class Resultado(models.TextChoices):
    PENDIENTE = "pendiente", "Pendiente"
    ENTREGADA = "entregada", "Entregada"
    FALLIDA = "fallida", "Fallida"


class Entrega(models.Model):
    """One corte for one difusor: written when the corte is published, then delivered."""

    difusor = models.ForeignKey(Difusor, on_delete=models.PROTECT, related_name="entregas")
    corte = models.CharField("corte", max_length=40)
    resultado = models.CharField(
        "resultado", max_length=12, choices=Resultado.choices, default=Resultado.PENDIENTE
    )
    inicio = models.DateTimeField("inicio", null=True, blank=True)
    fin = models.DateTimeField("fin", null=True, blank=True)
    intentos = models.PositiveIntegerField("intentos", default=0)
    archivos = models.PositiveIntegerField("archivos enviados", default=0)
    bytes = models.PositiveBigIntegerField("bytes enviados", default=0)
    omitidos = models.PositiveIntegerField("archivos que ya tenía", default=0)
    error = models.TextField("error", blank=True, default="")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["difusor", "corte"], name="una_entrega_por_corte")
        ]
        verbose_name = "entrega"
        verbose_name_plural = "entregas"

    def __str__(self) -> str:
        return f"{self.difusor} ← {self.corte}: {self.get_resultado_display()}"


class TipoIncidente(models.TextChoices):
    SUSPENDIDO = "suspendido", "Suspendido por fallas consecutivas"
    REHABILITADO = "rehabilitado", "Rehabilitado por un administrador"
    INHABILITADO = "inhabilitado", "Inhabilitado por un administrador"
    LLAVE_HOST = "llave_host", "Llave del servidor registrada"


class Incidente(models.Model):
    """A change in a difusor's standing, for the memoria técnica; never edited."""

    difusor = models.ForeignKey(Difusor, on_delete=models.PROTECT, related_name="incidentes")
    tipo = models.CharField("tipo", max_length=16, choices=TipoIncidente.choices)
    fecha = models.DateTimeField("fecha", auto_now_add=True)
    corte = models.CharField("corte", max_length=40, blank=True, default="")
    descripcion = models.TextField("descripción")
    usuario = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )

    class Meta:
        ordering = ["-fecha", "-id"]
        verbose_name = "incidente"
        verbose_name_plural = "incidentes"

    def __str__(self) -> str:
        return f"{self.difusor}: {self.get_tipo_display()}"
