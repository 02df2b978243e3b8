from django.apps import AppConfig


class DifusionConfig(AppConfig):
    """Difusores oficiales: the registry, the push of every corte, deliveries, incidents."""

    name = "openprep.difusion"
    verbose_name = "Difusión"
