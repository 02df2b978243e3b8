"""The catalog: what is expected on election night (DOMAIN.md §2)."""

from __future__ import annotations

from django.db import models

from openprep.core.model import TipoContendiente


class Eleccion(models.Model):
    """One election of the process, e.g. DIPUTACIONES LOCALES, with its publication settings."""

    nombre = models.CharField(max_length=120, unique=True)
    zona_horaria = models.CharField(
        max_length=40,
        help_text="Zona horaria del instituto: nombre IANA (America/Cancun) o UTC-5.",
    )
    creada = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "elección"
        verbose_name_plural = "elecciones"

    def __str__(self) -> str:
        return self.nombre


class Contendiente(models.Model):
    """A column of the acta in ballot order: party, coalition combination or candidacy."""

    eleccion = models.ForeignKey(Eleccion, on_delete=models.PROTECT, related_name="contendientes")
    clave = models.CharField(max_length=60)
    tipo = models.CharField(max_length=30, choices=[(t.value, t.value) for t in TipoContendiente])
    orden = models.PositiveIntegerField()

    class Meta:
        ordering = ["eleccion", "orden"]
        constraints = [
            models.UniqueConstraint(fields=["eleccion", "clave"], name="contendiente_unico"),
            models.UniqueConstraint(fields=["eleccion", "orden"], name="contendiente_orden_unico"),
        ]

    def __str__(self) -> str:
        return self.clave


class Casilla(models.Model):
    """A polling station: identity, location and lista nominal."""

    id_entidad = models.PositiveSmallIntegerField()
    entidad = models.CharField(max_length=60)
    id_distrito = models.PositiveSmallIntegerField()
    distrito = models.CharField(max_length=120)
    id_municipio = models.PositiveSmallIntegerField(null=True, blank=True)
    municipio = models.CharField(max_length=120, blank=True)
    seccion = models.PositiveIntegerField()
    tipo = models.CharField(max_length=1)
    id_casilla = models.PositiveSmallIntegerField()
    ext_contigua = models.PositiveSmallIntegerField()
    ubicacion = models.PositiveSmallIntegerField()
    lista_nominal = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["id_entidad", "seccion", "tipo", "id_casilla", "ext_contigua"],
                name="casilla_unica",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.id_entidad:02d}{self.seccion:04d}{self.tipo}"
            f"{self.id_casilla:02d}{self.ext_contigua:02d}"
        )


class ActaEsperada(models.Model):
    """A (casilla, election) pair that should arrive: the catalog's unit of work.

    ``no_aplica`` lists the contender columns that are not on this acta's ballot (they
    publish as ``-``); ``orden`` is the catalog order the database is published in.
    """

    eleccion = models.ForeignKey(Eleccion, on_delete=models.PROTECT, related_name="actas_esperadas")
    casilla = models.ForeignKey(Casilla, on_delete=models.PROTECT, related_name="actas_esperadas")
    tipo_acta = models.CharField(max_length=2)
    clave_acta = models.CharField(max_length=20)
    orden = models.PositiveIntegerField()
    representantes_pp_ci = models.PositiveIntegerField(default=0)
    no_aplica = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = "acta esperada"
        verbose_name_plural = "actas esperadas"
        ordering = ["eleccion", "orden"]
        constraints = [
            models.UniqueConstraint(
                fields=["eleccion", "casilla", "tipo_acta"], name="acta_esperada_unica"
            ),
            models.UniqueConstraint(fields=["eleccion", "clave_acta"], name="clave_acta_unica"),
        ]

    def __str__(self) -> str:
        return self.clave_acta
