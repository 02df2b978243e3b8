"""The one place where a :class:`UserError` raised by a view becomes an HTTP response.

Operator screens and the API share their views: a client that sends
``Accept: application/json`` (the PREP Casilla app, ``openprep simulate night``) gets JSON,
a browser gets the Spanish page. A user error never becomes a 500: the service that
raised it ran in a transaction, so nothing was half-written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from openprep.core.errors import UserError

BAD_REQUEST = 400


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def error_payload(exc: UserError) -> dict[str, str]:
    """The JSON body of a refused request: what, where, what to do, and all three joined."""
    return {"error": exc.message, "donde": exc.where, "que_hacer": exc.hint, "mensaje": exc.text}


def user_error_response(request: HttpRequest, exc: UserError) -> HttpResponse:
    """A user error as JSON or as the Spanish error page; its status comes from the error
    class (``http_status``: 400 unless it says 404, 409, 413 …)."""
    status = getattr(exc, "http_status", BAD_REQUEST)
    if wants_json(request):
        return JsonResponse(error_payload(exc), status=status)
    return render(request, "error.html", {"error": exc}, status=status)


class UserErrorMiddleware:
    """Turns user errors (and, for JSON clients, refusals by role) into responses."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> Any:
        if isinstance(exception, UserError):
            return user_error_response(request, exception)
        if isinstance(exception, PermissionDenied) and wants_json(request):
            return JsonResponse({"error": str(exception), "mensaje": str(exception)}, status=403)
        return None
