from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Operators, roles and CATDs; registers the startup check on every view's policy."""

    name = "openprep.accounts"
    label = "accounts"
    verbose_name = "Cuentas y roles"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core import checks

        from openprep.accounts.checks import check_access_policies

        checks.register(check_access_policies, checks.Tags.urls)
