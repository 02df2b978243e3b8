"""``openprep memoria``: the memoria técnica of the difusión (seed 001, section VI).

Reads the public site's access logs (nginx ``combined``, plain or .gz) and the deliveries
and incidents of the database, and writes ``memoria.html`` and its CSV tables into
``--out``. Definitions of hit, page and visit: :mod:`openprep.difusion.memoria`.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any

from django.utils import timezone

from openprep.commands import OpenprepCommand
from openprep.core.errors import UserError
from openprep.difusion.memoria import contar
from openprep.difusion.memoria_reporte import PLAZO_MINUTOS, escribir_memoria


class MemoriaError(UserError):
    """Options of ``openprep memoria`` that cannot be used as given."""


class Command(OpenprepCommand):
    help = (
        "Genera la memoria técnica de la difusión: visitas, páginas y hits por hora a partir "
        "de las bitácoras de acceso del sitio público (formato combined de nginx, también "
        ".gz), las entregas a cada difusor y los incidentes. Escribe memoria.html y los CSV "
        "visitas_por_hora, entregas, incidentes y difusores en la carpeta --out."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--registros",
            nargs="+",
            required=True,
            metavar="ACCESS_LOG",
            help="bitácoras de acceso (access.log, access.log.1, access.log.2.gz …), en "
            "cualquier orden",
        )
        parser.add_argument("--out", required=True, help="carpeta donde se escribe la memoria")
        parser.add_argument(
            "--desde",
            help="inicio del periodo (ISO 8601, p. ej. 2027-06-06T08:00-05:00; sin desfase: "
            "zona horaria de la consola (TIME_ZONE); solo fecha: desde las 00:00)",
        )
        parser.add_argument(
            "--hasta",
            help="fin del periodo, sin incluirlo (ISO 8601; solo fecha: incluye ese día completo)",
        )
        parser.add_argument(
            "--plazo",
            type=int,
            default=PLAZO_MINUTOS,
            metavar="MINUTOS",
            help="minutos tras la hora del corte para que una entrega cuente a tiempo "
            f"(predeterminado: {PLAZO_MINUTOS})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        desde = _momento(options["desde"], opcion="--desde", fin=False)
        hasta = _momento(options["hasta"], opcion="--hasta", fin=True)
        if desde is not None and hasta is not None and hasta <= desde:
            raise MemoriaError(
                "--hasta debe ser posterior a --desde.",
                hint="Indique el periodo de la jornada y la publicación de resultados.",
            )
        if options["plazo"] < 1:
            raise MemoriaError("--plazo debe ser un número entero de minutos mayor que cero.")
        salida = Path(options["out"])
        if salida.exists() and not salida.is_dir():
            raise MemoriaError(
                "ya existe un archivo con ese nombre.",
                where=f"--out {salida}",
                hint="Indique una carpeta (se crea si no existe).",
            )
        registros = [Path(r) for r in options["registros"]]
        inicio, cpu = time.perf_counter(), time.process_time()
        memoria = contar(registros, desde=desde, hasta=hasta)
        segundos = time.perf_counter() - inicio
        archivos = escribir_memoria(
            salida,
            memoria=memoria,
            registros=registros,
            desde=desde,
            hasta=hasta,
            plazo=timedelta(minutes=options["plazo"]),
        )
        self.stdout.write(
            f"Bitácoras: {memoria.lineas} líneas leídas en {segundos:.1f} s "
            f"({time.process_time() - cpu:.1f} s de CPU); {memoria.invalidas} no se pudieron leer."
        )
        for ejemplo in memoria.ejemplos_invalidos:
            self.stdout.write(f"  {ejemplo.archivo}:{ejemplo.linea}: {ejemplo.texto}")
        if memoria.invalidas > len(memoria.ejemplos_invalidos):
            self.stdout.write(
                f"  … y {memoria.invalidas - len(memoria.ejemplos_invalidos)} líneas más."
            )
        p = memoria.periodo
        self.stdout.write(
            f"Periodo: {p.visitas} visitas, {p.paginas} páginas, {p.hits} hits, "
            f"{p.visitantes} visitantes únicos."
        )
        for archivo in archivos:
            self.stdout.write(f"Escrito: {archivo}")


def _momento(texto: str | None, *, opcion: str, fin: bool) -> datetime | None:
    """An ISO date or time; naive ones in the console's zone (settings.TIME_ZONE)."""
    if texto is None:
        return None
    try:
        if len(texto.strip()) == 10:
            dia = date.fromisoformat(texto.strip()) + timedelta(days=1 if fin else 0)
            momento = datetime.combine(dia, dt_time())
        else:
            momento = datetime.fromisoformat(texto.strip())
    except ValueError:
        raise MemoriaError(
            f"{texto!r} no es una fecha u hora ISO 8601.",
            where=opcion,
            hint="Use, p. ej., 2027-06-06, 2027-06-06T08:00 o 2027-06-06T08:00-05:00.",
        ) from None
    if timezone.is_naive(momento):
        momento = timezone.make_aware(momento, timezone.get_default_timezone())
    return momento
