"""The authentication backend: Django's own, loading each request's operator in one query."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class OperadorBackend(ModelBackend):
    """Django's ModelBackend (passwords, permissions, is_active), except that the user of a
    session comes with their operator profile and CATD: every console request needs both,
    and three queries per request were a measurable share of the capture path."""

    def get_user(self, user_id: Any) -> Any:
        model = get_user_model()
        try:
            user = model._default_manager.select_related("operador__catd").get(pk=user_id)
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
