"""Captures: each operator's independent reading of an acta's numbers."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from openprep.intake.models import Acta


class Captura(models.Model):
    """One operator's capture of one acta. Nobody captures the same acta twice."""

    acta = models.ForeignKey(Acta, on_delete=models.PROTECT, related_name="capturas")
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
