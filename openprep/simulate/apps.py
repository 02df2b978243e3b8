from django.apps import AppConfig


class SimulateConfig(AppConfig):
    """Synthetic election packages and election nights, for drills and benchmarks."""

    name = "openprep.simulate"
    verbose_name = "Simulacros"
