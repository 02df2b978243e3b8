from django.apps import AppConfig


class CoordinacionConfig(AppConfig):
    """The coordinator's screens: the dashboard of each CATD and SIN ACTA."""

    name = "openprep.coordinacion"
    verbose_name = "Coordinación"
