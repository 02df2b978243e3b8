"""Registered actas, their images, and the event log every transition writes.

The events are the truth (ARCHITECTURE.md convention 6): each acopio, digitalización,
captura, verificación or SIN ACTA is a new :class:`EventoActa` row, never an edit.
:class:`Acta` caches the current state and the latest values so a corte is one read;
every change to it happens in the same transaction as the event that explains it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from openprep.catalog.models import ActaEsperada, Eleccion
from openprep.core.model import MotivoSinActa


class Estado(models.TextChoices):
    ESPERADA = "ESPERADA", "Esperada"
    ACOPIADA = "ACOPIADA", "Acopiada"
    DIGITALIZADA = "DIGITALIZADA", "Digitalizada"
    CAPTURADA = "CAPTURADA", "Capturada"
    VERIFICADA = "VERIFICADA", "Verificada"


ESTADO_ORDEN = {estado: i for i, estado in enumerate(Estado)}


class TipoEvento(models.TextChoices):
    ACOPIO = "ACOPIO", "Acopio"
    DIGITALIZACION = "DIGITALIZACION", "Digitalización"
    CAPTURA = "CAPTURA", "Captura"
    SIN_ACTA = "SIN_ACTA", "Sin acta"
    VERIFICACION = "VERIFICACION", "Verificación"
    COTEJO = "COTEJO", "Cotejo"
    CORRECCION = "CORRECCION", "Corrección"


class Imagen(models.Model):
    """An acta image, content-addressed by its SHA-256.

    ``archivo`` is empty for an image known only by its published hash (a replayed
    publication): the hash is recorded, the bytes were never received here.
    """

    sha256 = models.CharField(max_length=64, primary_key=True)
    tamano = models.PositiveBigIntegerField(null=True, blank=True)
    archivo = models.FileField(upload_to="actas/", blank=True)
    recibida = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.sha256


class Acta(models.Model):
    """A registered acta: one per expected acta, or fuera de catálogo (``esperada`` null)."""

    eleccion = models.ForeignKey(Eleccion, on_delete=models.PROTECT, related_name="actas")
    esperada = models.OneToOneField(
        ActaEsperada, on_delete=models.PROTECT, null=True, blank=True, related_name="acta"
    )
    clave_acta = models.CharField(max_length=40)
    estado = models.CharField(max_length=20, choices=Estado.choices, default=Estado.ESPERADA)
    identidad_capturada = models.JSONField(default=dict, blank=True)
    mecanismo_traslado = models.CharField(max_length=1, blank=True)
    fecha_hora_acopio = models.DateTimeField(null=True, blank=True)
    imagen = models.ForeignKey(Imagen, on_delete=models.PROTECT, null=True, blank=True)
    origen = models.CharField(max_length=10, blank=True)
    digitalizacion = models.CharField(max_length=10, blank=True)
    tipo_documento = models.CharField(max_length=20, blank=True)
    motivo_sin_acta = models.CharField(
        max_length=30, blank=True, choices=[(m.value, m.value) for m in MotivoSinActa]
    )
    valores = models.JSONField(default=dict, blank=True)
    fecha_hora_captura = models.DateTimeField(null=True, blank=True)
    fecha_hora_verificacion = models.DateTimeField(null=True, blank=True)
    # The capture queue's order and filter, kept on the row so that handing out the next
    # acta is one indexed read that stops at its first row, whatever the queue's length.
    fecha_hora_digitalizacion = models.DateTimeField(null=True, blank=True)
    num_capturas = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["eleccion", "estado"]),
            models.Index(fields=["clave_acta"]),
            models.Index(
                fields=["fecha_hora_digitalizacion", "id"],
                name="acta_por_capturar",
                condition=models.Q(
                    estado__in=["DIGITALIZADA", "CAPTURADA"],
                    motivo_sin_acta="",
                    num_capturas__lt=2,
                    imagen__isnull=False,
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.clave_acta

    @property
    def fuera_catalogo(self) -> bool:
        return self.esperada_id is None


class EventoActa(models.Model):
    """One transition of one acta: who, where, when, what it was and what it became."""

    acta = models.ForeignKey(Acta, on_delete=models.PROTECT, related_name="eventos")
    tipo = models.CharField(max_length=20, choices=TipoEvento.choices)
    estado_anterior = models.CharField(max_length=20, choices=Estado.choices)
    estado_nuevo = models.CharField(max_length=20, choices=Estado.choices)
    usuario = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    catd = models.CharField(max_length=60, blank=True)
    cuando = models.DateTimeField(
        help_text="Momento del hecho, según el operador o el dispositivo."
    )
    registrado = models.DateTimeField(auto_now_add=True)
    datos = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["acta", "tipo"]),
            # A coordinator's actas without a casilla CATD: those acopiadas at their CATDs.
            models.Index(
                fields=["catd"], name="evento_acopio_por_catd", condition=Q(tipo="ACOPIO")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.acta} {self.tipo} {self.cuando:%Y-%m-%d %H:%M:%S}"
