"""The catalog: what is expected on election night (DOMAIN.md §2).

An election package (docs/paquete-electoral.md) fills every table but
:class:`CambioCatalogo`, which records each change made once publication has started.
A replayed publication creates its election without a :class:`Proceso`.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from openprep.core.model import TipoCasilla, TipoContendiente
from openprep.core.rules import LABEL_TABLES, Representantes, RuleSettings

TIPOS_CASILLA = [
    (TipoCasilla.BASICA.value, "básica"),
    (TipoCasilla.CONTIGUA.value, "contigua"),
    (TipoCasilla.EXTRAORDINARIA.value, "extraordinaria"),
    (TipoCasilla.ESPECIAL.value, "especial"),
    (TipoCasilla.PRISION_PREVENTIVA.value, "prisión preventiva"),
    (TipoCasilla.MESA_ESCRUTINIO.value, "mesa de escrutinio"),
]


class Ambito(models.TextChoices):
    """The territory an election's contenders are registered for."""

    ENTIDAD = "entidad", "entidad"
    DISTRITO = "distrito", "distrito"
    MUNICIPIO = "municipio", "municipio"


class Proceso(models.Model):
    """The electoral process of one entidad: institute, publication schedule, rule settings."""

    instituto = models.CharField("instituto", max_length=200)
    id_entidad = models.PositiveSmallIntegerField("ID de la entidad")
    entidad = models.CharField("entidad", max_length=60)
    zona_horaria = models.CharField(
        "zona horaria",
        max_length=40,
        help_text="Nombre IANA (America/Cancun) o desfase fijo (UTC-6).",
    )
    inicio_publicacion = models.DateTimeField(
        "inicio de la publicación",
        help_text="Desde este momento el catálogo queda bloqueado.",
    )
    intervalo_minutos = models.PositiveIntegerField("intervalo entre cortes (minutos)")
    fin_publicacion = models.DateTimeField("fin de la publicación")
    representantes = models.CharField(
        "margen de representantes",
        max_length=20,
        choices=[(r.value, r.value) for r in Representantes],
    )
    boletas_especial = models.PositiveIntegerField("boletas por casilla especial")
    etiquetas = models.CharField(
        "tabla de etiquetas", max_length=20, choices=[(k, k) for k in sorted(LABEL_TABLES)]
    )
    creado = models.DateTimeField("creado", auto_now_add=True)
    actualizado = models.DateTimeField("actualizado", auto_now=True)

    class Meta:
        verbose_name = "proceso electoral"
        verbose_name_plural = "procesos electorales"
        permissions = [
            (
                "forzar_cambios",
                "Puede cambiar el catálogo después del inicio de la publicación",
            )
        ]

    def __str__(self) -> str:
        return f"{self.instituto} ({self.entidad})"

    def bloqueado(self, ahora: datetime) -> bool:
        """Whether publication has started: from then on the catalog is locked."""
        return ahora >= self.inicio_publicacion

    def rule_settings(self) -> RuleSettings:
        """The core's rule settings as the package states them (participation is per corte)."""
        return RuleSettings(
            representantes=Representantes(self.representantes),
            boletas_especial=self.boletas_especial,
            labels=LABEL_TABLES[self.etiquetas],
        )


class Eleccion(models.Model):
    """One election of the process, e.g. DIPUTACIONES LOCALES, with its publication settings.

    ``clave``, ``ambito`` and the TIPO_ACTA fields come from the package's
    ``elecciones.csv``; an election created by a replay has no process and leaves them empty.
    """

    proceso = models.ForeignKey(
        Proceso,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="elecciones",
        verbose_name="proceso",
    )
    clave = models.CharField("clave", max_length=20, blank=True)
    nombre = models.CharField("nombre", max_length=120, unique=True)
    ambito = models.CharField("ámbito", max_length=10, choices=Ambito.choices, blank=True)
    tipo_acta = models.CharField("TIPO_ACTA de casillas ordinarias", max_length=2, blank=True)
    tipo_acta_especial = models.CharField(
        "TIPO_ACTA de casillas especiales",
        max_length=2,
        blank=True,
        help_text="Vacío: las casillas especiales no reciben votos de esta elección.",
    )
    zona_horaria = models.CharField(
        "zona horaria",
        max_length=40,
        help_text="Zona horaria del instituto: nombre IANA (America/Cancun) o UTC-5.",
    )
    creada = models.DateTimeField("creada", auto_now_add=True)

    class Meta:
        verbose_name = "elección"
        verbose_name_plural = "elecciones"
        constraints = [
            models.UniqueConstraint(
                fields=["proceso", "clave"],
                condition=models.Q(proceso__isnull=False),
                name="eleccion_clave_unica",
            )
        ]

    def __str__(self) -> str:
        return self.nombre

    @property
    def etiqueta(self) -> str:
        """How the console's JSON names the election: its package key, else its name."""
        return self.clave or self.nombre


class Contendiente(models.Model):
    """A column of the acta in ballot order: party, coalition combination or candidacy."""

    eleccion = models.ForeignKey(
        Eleccion,
        on_delete=models.PROTECT,
        related_name="contendientes",
        verbose_name="elección",
    )
    clave = models.CharField("clave", max_length=60)
    tipo = models.CharField(
        "tipo", max_length=30, choices=[(t.value, t.value) for t in TipoContendiente]
    )
    orden = models.PositiveIntegerField("orden en la boleta")

    class Meta:
        verbose_name = "contendiente"
        verbose_name_plural = "contendientes"
        ordering = ["eleccion", "orden"]
        constraints = [
            models.UniqueConstraint(fields=["eleccion", "clave"], name="contendiente_unico"),
            models.UniqueConstraint(fields=["eleccion", "orden"], name="contendiente_orden_unico"),
        ]

    def __str__(self) -> str:
        return self.clave


class Candidatura(models.Model):
    """A contender registered in a territory (all of the election's, or one distrito or
    municipio), with its candidates as the CANDIDATURAS file publishes them.

    A contender on no candidatura of a territory is off that territory's ballots.
    """

    eleccion = models.ForeignKey(
        Eleccion, on_delete=models.PROTECT, related_name="candidaturas", verbose_name="elección"
    )
    contendiente = models.ForeignKey(
        Contendiente,
        on_delete=models.PROTECT,
        related_name="candidaturas",
        verbose_name="contendiente",
    )
    id_territorio = models.PositiveSmallIntegerField(
        "ID del territorio",
        null=True,
        blank=True,
        help_text="Distrito o municipio según el ámbito de la elección; vacío: todos.",
    )
    propietario = models.CharField("candidatura propietaria", max_length=200, blank=True)
    suplente = models.CharField("candidatura suplente", max_length=200, blank=True)

    class Meta:
        verbose_name = "candidatura"
        verbose_name_plural = "candidaturas"
        ordering = ["eleccion", "id_territorio", "contendiente__orden"]
        constraints = [
            models.UniqueConstraint(
                fields=["contendiente", "id_territorio"], name="candidatura_unica"
            ),
            models.UniqueConstraint(
                fields=["contendiente"],
                condition=models.Q(id_territorio__isnull=True),
                name="candidatura_todos_unica",
            ),
        ]

    def __str__(self) -> str:
        territorio = "todos" if self.id_territorio is None else str(self.id_territorio)
        return f"{self.contendiente} ({territorio})"


class Casilla(models.Model):
    """A polling station: identity, location and lista nominal."""

    id_entidad = models.PositiveSmallIntegerField("ID_ESTADO")
    entidad = models.CharField("ESTADO", max_length=60)
    id_distrito = models.PositiveSmallIntegerField("ID_DISTRITO")
    distrito = models.CharField("DISTRITO", max_length=120)
    id_municipio = models.PositiveSmallIntegerField("ID_MUNICIPIO", null=True, blank=True)
    municipio = models.CharField("MUNICIPIO", max_length=120, blank=True)
    seccion = models.PositiveIntegerField("SECCION")
    tipo = models.CharField("TIPO_CASILLA", max_length=1, choices=TIPOS_CASILLA)
    id_casilla = models.PositiveSmallIntegerField("ID_CASILLA")
    ext_contigua = models.PositiveSmallIntegerField("EXT_CONTIGUA")
    ubicacion = models.PositiveSmallIntegerField(
        "UBICACION_CASILLA", choices=[(1, "urbana"), (2, "no urbana")]
    )
    lista_nominal = models.PositiveIntegerField("LISTA_NOMINAL")
    # The CATD that receives this casilla's package: its actas esperadas on that CATD's
    # dashboard. Optional (a replayed publication knows no CATDs).
    catd = models.ForeignKey(
        "accounts.CATD",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="casillas",
        verbose_name="CATD",
    )

    class Meta:
        verbose_name = "casilla"
        verbose_name_plural = "casillas"
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

    def clean(self) -> None:
        if self.tipo == TipoCasilla.ESPECIAL and self.lista_nominal:
            raise ValidationError(
                {"lista_nominal": "Una casilla especial no tiene lista nominal: use 0."}
            )


class ActaEsperada(models.Model):
    """A (casilla, election) pair that should arrive: the catalog's unit of work.

    ``no_aplica`` lists the contender columns that are not on this acta's ballot (they
    publish as ``-``); ``orden`` is the catalog order the database is published in.
    """

    eleccion = models.ForeignKey(
        Eleccion,
        on_delete=models.PROTECT,
        related_name="actas_esperadas",
        verbose_name="elección",
    )
    casilla = models.ForeignKey(
        Casilla, on_delete=models.PROTECT, related_name="actas_esperadas", verbose_name="casilla"
    )
    tipo_acta = models.CharField("TIPO_ACTA", max_length=2)
    clave_acta = models.CharField("CLAVE_ACTA", max_length=20)
    orden = models.PositiveIntegerField("orden de publicación")
    representantes_pp_ci = models.PositiveIntegerField("REPRESENTANTES_PP_CI", default=0)
    no_aplica = models.JSONField("columnas fuera de la boleta", default=list, blank=True)

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


class AccionCambio(models.TextChoices):
    CREADO = "creado", "creado"
    MODIFICADO = "modificado", "modificado"
    ELIMINADO = "eliminado", "eliminado"
    REORDENADO = "reordenado", "reordenado"
    """An election's expected actas renumbered in publication order (one row, not one per acta)."""


class CambioCatalogo(models.Model):
    """One change to the catalog made after publication started: who, when, what, before, after.

    Rows are only ever added (ARCHITECTURE.md convention 6). ``antes`` and ``despues``
    hold the fields that changed (every field for a creation or deletion).
    """

    usuario = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name="usuario"
    )
    cuando = models.DateTimeField("cuándo")
    origen = models.CharField(
        "origen", max_length=300, help_text="Importación del paquete (con su carpeta) o admin."
    )
    motivo = models.TextField("motivo", blank=True)
    tabla = models.CharField("tabla", max_length=40)
    objeto = models.CharField("objeto", max_length=200)
    accion = models.CharField("acción", max_length=20, choices=AccionCambio.choices)
    antes = models.JSONField("antes", null=True, blank=True, encoder=DjangoJSONEncoder)
    despues = models.JSONField("después", null=True, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        verbose_name = "cambio al catálogo"
        verbose_name_plural = "cambios al catálogo"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.tabla} {self.objeto} {self.accion}"
