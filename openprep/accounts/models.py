"""CATDs and operators: each Django user holds one role of DOMAIN.md §3 at one CATD."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction


class Rol(models.TextChoices):
    """The separate people of election night (DOMAIN.md §3); one role per user."""

    ACOPIADOR = "acopiador", "Acopiador"
    DIGITALIZADOR = "digitalizador", "Digitalizador"
    CAPTURISTA = "capturista", "Capturista"
    VERIFICADOR = "verificador", "Verificador (cotejo)"
    COORDINADOR = "coordinador", "Coordinador de CATD"
    ADMINISTRADOR = "administrador", "Administrador"


# Roles that work at a CATD and must be assigned to one. The administrador works
# centrally (catalog, publication, keys) and may have none.
ROLES_CON_CATD = frozenset(Rol) - {Rol.ADMINISTRADOR}


class CATD(models.Model):
    """Centro de Acopio y Transmisión de Datos: where actas arrive and are processed."""

    clave = models.CharField("clave", max_length=20, unique=True)
    nombre = models.CharField("nombre", max_length=200)

    class Meta:
        ordering = ["clave"]
        verbose_name = "CATD"
        verbose_name_plural = "CATD"

    def __str__(self) -> str:
        return f"{self.clave} – {self.nombre}"


class Operador(models.Model):
    """The role and CATD of one user. A user without an Operador has no access at all."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="operador",
        verbose_name="usuario",
    )
    rol = models.CharField("rol", max_length=20, choices=Rol.choices)
    catd = models.ForeignKey(
        CATD,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="operadores",
        verbose_name="CATD",
    )
    # A coordinator supervises their own CATD; these grant more (or every one).
    catds_adicionales = models.ManyToManyField(
        CATD,
        blank=True,
        related_name="coordinadores_adicionales",
        verbose_name="CATD adicionales",
    )
    todas_las_catd = models.BooleanField("todas las CATD", default=False)

    class Meta:
        ordering = ["user__username"]
        verbose_name = "operador"
        verbose_name_plural = "operadores"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rol=Rol.ADMINISTRADOR) | models.Q(catd__isnull=False),
                name="operador_con_catd",
            ),
            models.CheckConstraint(
                condition=models.Q(rol=Rol.COORDINADOR) | models.Q(todas_las_catd=False),
                name="solo_coordinador_todas_las_catd",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.get_rol_display()})"

    def clean(self) -> None:
        if self.rol in ROLES_CON_CATD and self.catd_id is None:
            raise ValidationError(
                {"catd": f"El rol {self.get_rol_display()} debe asignarse a una CATD."}
            )
        if self.todas_las_catd and self.rol != Rol.COORDINADOR:
            raise ValidationError(
                {"todas_las_catd": "Solo a un coordinador se le pueden otorgar todas las CATD."}
            )

    @transaction.atomic
    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        # The Django admin needs model permissions; only the administrador role gets them,
        # and a user who changes role loses them (separation of duties).
        es_admin = self.rol == Rol.ADMINISTRADOR
        type(self.user).objects.filter(pk=self.user_id).update(
            is_staff=es_admin, is_superuser=es_admin
        )
        self.user.is_staff = self.user.is_superuser = es_admin
