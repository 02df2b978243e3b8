"""Captures: each operator's independent reading of an acta's numbers."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from openprep.intake.models import Acta


class Captura(models.Model):
    """One operator's capture of one acta. Nobody captures the same acta twice."""

    # No index of its own: the unique (acta, capturista) index serves every lookup by acta,
    # and one index fewer is one write fewer in each capture's transaction.
    acta = models.ForeignKey(
        Acta, on_delete=models.PROTECT, related_name="capturas", db_index=False
    )
    capturista = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    valores = models.JSONField()
    cuando = models.DateTimeField()
    registrada = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["acta", "capturista"], name="una_captura_por_persona"),
        ]

    def __str__(self) -> str:
        return f"{self.acta} por {self.capturista}"


class Tarea(models.TextChoices):
    CAPTURA = "CAPTURA", "Captura"
    VERIFICACION = "VERIFICACION", "Verificación"


class Asignacion(models.Model):
    """An acta handed to one person for one task until ``hasta`` (a work queue claim).

    One claim per acta (the unique acta), so two people never work on the same acta at
    once; a claim past ``hasta`` may be taken over by the next person who asks. A claim is
    work distribution, not an acta transition: it writes no event and is deleted when the
    work is recorded or released.
    """

    acta = models.OneToOneField(Acta, on_delete=models.CASCADE, related_name="asignacion")
    usuario = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="asignaciones"
    )
    tarea = models.CharField(max_length=20, choices=Tarea.choices)
    hasta = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.acta} ({self.tarea}) para {self.usuario} hasta {self.hasta:%H:%M:%S}"
