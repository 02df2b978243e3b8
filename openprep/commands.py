"""The one place where a :class:`UserError` becomes what a person at a terminal reads."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from openprep.core.errors import UserError
from openprep.core.rules import (
    LABEL_TABLES,
    Participacion,
    Representantes,
    RuleSettings,
)

EXIT_UNREADABLE = 2


class OpenprepCommand(BaseCommand):
    """A management command whose user errors print in Spanish and exit 2, no traceback."""

    def execute(self, *args: Any, **options: Any) -> str | None:
        try:
            return super().execute(*args, **options)
        except UserError as exc:
            self.stderr.write(f"Error: {exc.text}")
            sys.exit(EXIT_UNREADABLE)


def add_rule_arguments(parser: Any) -> None:
    """The rule settings every command that counts actas accepts (DOMAIN.md §2, §4, §5)."""
    parser.add_argument(
        "--representantes",
        choices=[r.value for r in Representantes],
        default=Representantes.CONTENDIENTES.value,
        help="margen de representantes: 2 × contendientes en la boleta, o la columna "
        "REPRESENTANTES_PP_CI (predeterminado: contendientes)",
    )
    parser.add_argument(
        "--boletas-especial",
        type=int,
        default=750,
        help="boletas aprobadas por casilla especial (predeterminado: 750)",
    )
    parser.add_argument(
        "--participacion",
        choices=[p.value for p in Participacion],
        default=Participacion.FINAL.value,
        help="corte final (con casillas especiales) u operación (sin ellas); predeterminado: final",
    )
    parser.add_argument(
        "--etiquetas",
        choices=sorted(LABEL_TABLES),
        default="referencia",
        help="tabla de etiquetas de observaciones (predeterminado: referencia)",
    )


def rule_settings(options: dict[str, Any]) -> RuleSettings:
    if options["boletas_especial"] < 0:
        raise UserError(
            "--boletas-especial debe ser un número entero no negativo.",
            hint="Use el número de boletas aprobado para cada casilla especial, p. ej. 750.",
        )
    return RuleSettings(
        representantes=Representantes(options["representantes"]),
        boletas_especial=options["boletas_especial"],
        participacion=Participacion(options["participacion"]),
        labels=LABEL_TABLES[options["etiquetas"]],
    )
