"""The coordinator's figures: progress, queues, throughput, stuck actas, inconsistencies.

Everything is counted in SQL (one grouped query per figure) over the actas of the CATDs
a coordinator may see, except whether a verified acta counts: that is the core's
decision (:func:`openprep.core.rules.contabilizar`), made here exactly as a corte makes it.

Which actas a coordinator sees, and under which CATD each is counted:
:mod:`openprep.coordinacion.alcance` (a coordinator granted every CATD also sees the actas
that have none, under the key ``None``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, tzinfo
from itertools import groupby, tee
from operator import itemgetter
from typing import Any

from django.conf import settings as django_settings
from django.db.models import (
    Count,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
)
from django.db.models.functions import Cast, Coalesce, TruncHour

from openprep.accounts.access import catds_visibles
from openprep.capture.models import Captura
from openprep.capture.services import CAPTURAS_REQUERIDAS
from openprep.catalog.models import Casilla, Eleccion
from openprep.catalog.services import election_of, zona_horaria
from openprep.coordinacion.alcance import Alcance, alcance_de
from openprep.core.model import MotivoSinActa
from openprep.core.rules import Observacion, contabilizar
from openprep.intake.models import Acta, Estado, EventoActa
from openprep.publish.corte import (
    CATALOG_COLUMNS,
    casillas_por_id,
    catalog_records,
    rule_settings_de,
)

CatdKey = str | None
GroupKey = tuple[CatdKey, int]  # (CATD clave, election id)

CUALQUIERA = object()
"""``Figures.avance_de(catd=...)`` default: every CATD (``None`` is the group without one)."""

DETENIDAS_MAX = 200
"""How many stuck actas the dashboard lists (oldest first); the total is always given."""
HORAS_MAX = 48
"""How many hours of throughput the chart shows (the most recent)."""

ETIQUETAS_INCONSISTENCIA = {
    "EXCEDE_LISTA_NOMINAL": "Excede lista nominal",
    "TODOS_ILEGIBLES_O_SIN_DATO": "Todos ilegibles o sin dato",
    "ALGUN_DATO_ILEGIBLE_O_SIN_DATO": "Algún dato ilegible o sin dato",
    "SIN_ACTA_PAQUETE_NO_ENTREGADO": "Sin acta: paquete no entregado",
    "SIN_ACTA_CASILLA_NO_INSTALADA": "Sin acta: casilla no instalada",
    "SIN_ACTA_PAQUETE_SIN_SOBRE": "Sin acta: paquete entregado sin sobre",
    "SIN_ACTA_CONTINGENCIA": "Sin acta: contingencia",
    "FUERA_CATALOGO": "Fuera de catálogo",
}
"""Every kind the dashboard counts, in the order it lists them, with its Spanish label."""

_REGLAS = (
    Observacion.EXCEDE_LISTA_NOMINAL,
    Observacion.TODOS_ILEGIBLES_O_SIN_DATO,
    Observacion.ALGUN_DATO_ILEGIBLE_O_SIN_DATO,
)


@dataclass(slots=True)
class Avance:
    """How far one group of actas (a CATD's, an election's, or all) has come."""

    esperadas: int = 0
    acopiadas: int = 0
    digitalizadas: int = 0
    capturadas: int = 0
    verificadas: int = 0
    contabilizadas: int = 0
    sin_acta: int = 0
    fuera_catalogo: int = 0

    def add(self, other: Avance) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(slots=True)
class Colas:
    """Actas waiting for a person: capture, cotejo, confirmation of a SIN ACTA."""

    captura: int = 0
    cotejo: int = 0
    sin_acta: int = 0

    def add(self, other: Colas) -> None:
        self.captura += other.captura
        self.cotejo += other.cotejo
        self.sin_acta += other.sin_acta


@dataclass(frozen=True, slots=True)
class ActaDetenida:
    clave_acta: str
    eleccion: str
    estado: str
    desde: datetime
    catd: CatdKey
    imagen: str


@dataclass(slots=True)
class Figures:
    """Everything the dashboard shows, for the CATDs one coordinator may see."""

    generado: datetime
    tz: tzinfo
    minutos: int
    catds: list[tuple[CatdKey, str]]
    elecciones: list[Eleccion]
    todas_las_catd: bool
    avance: dict[GroupKey, Avance] = field(default_factory=dict)
    colas: dict[CatdKey, Colas] = field(default_factory=dict)
    por_hora: list[tuple[datetime, int]] = field(default_factory=list)
    detenidas: list[ActaDetenida] = field(default_factory=list)
    detenidas_total: int = 0
    inconsistencias: Counter[str] = field(default_factory=Counter)

    def avance_de(self, *, eleccion: int | None = None, catd: object = CUALQUIERA) -> Avance:
        """The sum over the groups of ``eleccion`` and ``catd`` (each: any, if not given)."""
        total = Avance()
        for (clave, eleccion_id), avance in self.avance.items():
            if (catd is CUALQUIERA or clave == catd) and eleccion in (None, eleccion_id):
                total.add(avance)
        return total

    def colas_total(self) -> Colas:
        total = Colas()
        for colas in self.colas.values():
            total.add(colas)
        return total


def clave_eleccion(eleccion: Eleccion) -> str:
    """How the dashboard and the downloads name an election: its clave, or its name."""
    return eleccion.clave or eleccion.nombre


def figures(user: Any, *, ahora: datetime, minutos: int) -> Figures:
    """The dashboard's figures for ``user`` at ``ahora``; stuck means idle over ``minutos``."""
    alcance = alcance_de(user)
    elecciones = list(Eleccion.objects.select_related("proceso").order_by("id"))
    tz = zona_horaria(elecciones[0].zona_horaria) if elecciones else _server_tz()
    nombres = dict(catds_visibles(user).values_list("clave", "nombre"))
    result = Figures(
        generado=ahora,
        tz=tz,
        minutos=minutos,
        catds=sorted(nombres.items()),
        elecciones=elecciones,
        todas_las_catd=alcance.todas,
    )
    actas = alcance.actas()
    _count_progress(result, actas=actas, esperadas=alcance.esperadas())
    _count_queues(result, actas=actas)
    _decide_verified(result, actas=actas, elecciones=elecciones, ahora=ahora)
    _throughput(result, actas=actas, alcance=alcance)
    _stuck(result, actas=actas, limite=ahora - timedelta(minutes=minutos))
    _sin_acta_y_fuera(result, actas=actas)
    # Actas whose CATD is none of the known ones (only a coordinator of every CATD sees
    # them) get a row of their own.
    known = {clave for clave, _ in result.catds}
    extra = {clave for clave, _ in result.avance} - known
    result.catds += [(clave, clave or "Sin CATD") for clave in sorted(extra, key=str)]
    return result


def _server_tz() -> tzinfo:
    return zona_horaria(django_settings.TIME_ZONE)


def _count_progress(result: Figures, *, actas: QuerySet[Acta], esperadas: Any) -> None:
    for row in esperadas.values("eleccion_id", "casilla__catd__clave").annotate(n=Count("id")):
        key = (row["casilla__catd__clave"], row["eleccion_id"])
        result.avance.setdefault(key, Avance()).esperadas = row["n"]
    rows = actas.values("eleccion_id", "catd_clave").annotate(
        acopiadas=Count("id", filter=Q(fecha_hora_acopio__isnull=False)),
        digitalizadas=Count("id", filter=Q(imagen__isnull=False)),
        capturadas=Count("id", filter=Q(fecha_hora_captura__isnull=False)),
        verificadas=Count("id", filter=Q(estado=Estado.VERIFICADA)),
        sin_acta=Count("id", filter=~Q(motivo_sin_acta="")),
        fuera_catalogo=Count("id", filter=Q(esperada__isnull=True)),
    )
    for row in rows.order_by():
        avance = result.avance.setdefault((row.pop("catd_clave"), row.pop("eleccion_id")), Avance())
        for name, value in row.items():
            setattr(avance, name, value)


def _count_queues(result: Figures, *, actas: QuerySet[Acta]) -> None:
    capturas = (
        Captura.objects.filter(acta=OuterRef("pk"))
        .order_by()
        .values("acta")
        .annotate(n=Count("id"))
        .values("n")
    )
    pendientes = actas.exclude(estado=Estado.VERIFICADA).annotate(
        n_capturas=Coalesce(Subquery(capturas), 0, output_field=IntegerField())
    )
    rows = pendientes.values("catd_clave").annotate(
        captura=Count(
            "id",
            filter=Q(imagen__isnull=False, motivo_sin_acta="", n_capturas__lt=CAPTURAS_REQUERIDAS),
        ),
        sin_acta=Count("id", filter=~Q(motivo_sin_acta="")),
    )
    for row in rows.order_by():
        result.colas[row["catd_clave"]] = Colas(captura=row["captura"], sin_acta=row["sin_acta"])
    # Cotejo: two captures that disagree. Only the few actas with two captures and no
    # verification are compared (JSON values are not comparable alike in every database).
    dobles = dict(
        pendientes.filter(motivo_sin_acta="", n_capturas__gte=CAPTURAS_REQUERIDAS)
        .values_list("pk", "catd_clave")
        .order_by()
    )
    valores: dict[int, list[dict[str, str]]] = defaultdict(list)
    for acta_id, captura in Captura.objects.filter(acta_id__in=dobles).values_list(
        "acta_id", "valores"
    ):
        valores[acta_id].append(captura)
    for acta_id, capturas_acta in valores.items():
        if any(c != capturas_acta[0] for c in capturas_acta[1:]):
            result.colas.setdefault(dobles[acta_id], Colas()).cotejo += 1


@dataclass(slots=True)
class _Memo:
    """Decisions already made, by everything they depend on (one memo per server process).

    Reading a verified acta and deciding it costs far more than keying it (the first
    dashboard of a process at national scale decides half a million), so each one is
    decided once. The rules are a pure function of an acta's values and SIN ACTA reason,
    its election, its casilla's lista nominal and tipo, its expected acta's
    representatives and columns off the ballot (the key: the values as the database's
    text, hashed), and its election's contenders and rule settings (``contexto``: the
    memo is emptied when they change).
    Equal inputs give equal decisions, so no entry is ever stale, whatever was corrected,
    rolled back or reloaded.
    """

    contexto: object = None
    decisiones: dict[tuple[Any, ...], tuple[bool, Observacion | None]] = field(default_factory=dict)


_MEMO = _Memo()
_MAX_IDS = 500  # beyond this many undecided actas, read them all rather than list their ids
_MAX_MEMO = 2_000_000  # entries (about 200 bytes each): emptied beyond this


def _decide_verified(
    result: Figures, *, actas: QuerySet[Acta], elecciones: Iterable[Eleccion], ahora: datetime
) -> None:
    """Contabilizadas and the rules' observations: the core decides each verified acta
    of the catalog (one fuera de catálogo never counts nor has these observations)."""
    contexts = {}
    for eleccion in elecciones:
        election = election_of(eleccion)
        contexts[eleccion.pk] = (
            election,
            zona_horaria(eleccion.zona_horaria),
            rule_settings_de(eleccion, hasta=ahora),
        )
    contexto = {
        pk: (election, settings.representantes, settings.boletas_especial, dict(settings.labels))
        for pk, (election, _, settings) in contexts.items()
    }
    if _MEMO.contexto != contexto:
        _MEMO.contexto, _MEMO.decisiones = contexto, {}
    memo = _MEMO.decisiones
    if len(memo) > _MAX_MEMO:
        memo.clear()
    verificadas = actas.filter(estado=Estado.VERIFICADA, esperada__isnull=False).order_by()
    firmas = verificadas.values_list(
        "pk",
        "catd_clave",
        "eleccion_id",
        Cast("valores", TextField()),
        "motivo_sin_acta",
        "esperada__casilla__lista_nominal",
        "esperada__casilla__tipo",
        "esperada__representantes_pp_ci",
        Cast("esperada__no_aplica", TextField()),
    )
    faltan: dict[int, tuple[tuple[Any, ...], CatdKey]] = {}
    for pk, catd, eleccion_id, valores, *resto in firmas:
        key = (eleccion_id, hash(valores), *resto)
        decision = memo.get(key)
        if decision is None:
            faltan[pk] = (key, catd)
        else:
            _count_decision(result, catd=catd, eleccion_id=eleccion_id, decision=decision)
    if not faltan:
        return
    # Undecided actas are read as tuples and turned into records as a corte does it (a
    # first dashboard at national scale decides half a million actas: read as models,
    # that took about 100 µs each).
    todas = len(faltan) > _MAX_IDS
    leer = verificadas if todas else verificadas.filter(pk__in=faltan)
    casillas = casillas_por_id(
        None if todas else Casilla.objects.filter(actas_esperadas__acta__in=list(faltan))
    )
    filas = leer.order_by("eleccion_id").values_list("eleccion_id", "pk", *CATALOG_COLUMNS)
    for eleccion_id, grupo in groupby(filas.iterator(chunk_size=5000), key=itemgetter(0)):
        election, tz, rule_settings = contexts[eleccion_id]
        # One record per row, in order: each row's pk is zipped back onto its record.
        con_pk, sin_pk = tee(grupo)
        records = catalog_records(
            (fila[2:] for fila in sin_pk), columns=election.columns, tz=tz, casillas=casillas
        )
        for pk, record in zip((fila[1] for fila in con_pk), records, strict=True):
            if pk not in faltan:
                continue
            key, catd = faltan[pk]
            decided = contabilizar(record, election=election, settings=rule_settings)
            decision = (decided.contabilizada, decided.observacion)
            memo[key] = decision
            _count_decision(result, catd=catd, eleccion_id=eleccion_id, decision=decision)


def _count_decision(
    result: Figures,
    *,
    catd: CatdKey,
    eleccion_id: int,
    decision: tuple[bool, Observacion | None],
) -> None:
    contabilizada, observacion = decision
    if contabilizada:
        result.avance.setdefault((catd, eleccion_id), Avance()).contabilizadas += 1
    if observacion in _REGLAS:
        result.inconsistencias[observacion.value] += 1


def _throughput(result: Figures, *, actas: QuerySet[Acta], alcance: Alcance) -> None:
    """Actas verified per hour (institute time): every event that made an acta VERIFICADA
    (a verification, a cotejo, or whatever event another path verifies with)."""
    eventos = EventoActa.objects.filter(estado_nuevo=Estado.VERIFICADA).exclude(
        estado_anterior=Estado.VERIFICADA
    )
    if not alcance.todas:
        eventos = eventos.filter(acta__in=actas.values("pk"))
    rows = (
        eventos.annotate(hora=TruncHour("cuando", tzinfo=result.tz))
        .values("hora")
        .annotate(n=Count("id"))
        .order_by("hora")
    )
    counts = {row["hora"].astimezone(result.tz): row["n"] for row in rows}
    if not counts:
        return
    hora, last = min(counts), max(counts)
    hora = max(hora, last - timedelta(hours=HORAS_MAX - 1))
    while hora <= last:
        result.por_hora.append((hora, counts.get(hora, 0)))
        hora = (hora + timedelta(hours=1)).astimezone(result.tz)


def _stuck(result: Figures, *, actas: QuerySet[Acta], limite: datetime) -> None:
    ultimo = (
        EventoActa.objects.filter(acta=OuterRef("pk"))
        .order_by()
        .values("acta")
        .annotate(m=Max("cuando"))
        .values("m")
    )
    detenidas = (
        actas.exclude(estado=Estado.VERIFICADA)
        .annotate(desde=Subquery(ultimo))
        .filter(desde__lt=limite)
        .select_related("eleccion")
    )
    result.detenidas_total = detenidas.count()
    result.detenidas = [
        ActaDetenida(
            clave_acta=acta.clave_acta,
            eleccion=clave_eleccion(acta.eleccion),
            estado="SIN ACTA" if acta.motivo_sin_acta else acta.estado,
            desde=acta.desde.astimezone(result.tz),
            catd=acta.catd_clave,
            imagen=f"/imagenes/{acta.imagen_id}/" if acta.imagen_id else "",
        )
        for acta in detenidas.order_by("desde", "id")[:DETENIDAS_MAX]
    ]


def _sin_acta_y_fuera(result: Figures, *, actas: QuerySet[Acta]) -> None:
    """SIN ACTA by reason (recorded, confirmed or not) and actas fuera de catálogo."""
    por_motivo = actas.exclude(motivo_sin_acta="").values("motivo_sin_acta").annotate(n=Count("id"))
    for row in por_motivo.order_by():
        result.inconsistencias[f"SIN_ACTA_{MotivoSinActa(row['motivo_sin_acta']).value}"] = row["n"]
    result.inconsistencias["FUERA_CATALOGO"] = actas.filter(esperada__isnull=True).count()


def as_json(result: Figures) -> dict[str, Any]:
    """The figures as the dashboard's JSON answer (keys documented in the view)."""
    nombres = {e.pk: clave_eleccion(e) for e in result.elecciones}

    def avance(**where: Any) -> dict[str, int]:
        return asdict(result.avance_de(**where))

    return {
        "generado": result.generado.astimezone(result.tz).isoformat(),
        "minutos": result.minutos,
        "elecciones": [{"clave": nombres[e.pk], "nombre": e.nombre} for e in result.elecciones],
        "catds": [
            {
                "clave": clave,
                "nombre": nombre,
                "avance": {n: avance(catd=clave, eleccion=pk) for pk, n in nombres.items()},
                "colas": asdict(result.colas.get(clave, Colas())),
            }
            for clave, nombre in result.catds
        ],
        "total": {
            "avance": {n: avance(eleccion=pk) for pk, n in nombres.items()},
            "colas": asdict(result.colas_total()),
        },
        "verificadas_por_hora": [
            {"hora": hora.isoformat(), "actas": n} for hora, n in result.por_hora
        ],
        "detenidas": {
            "total": result.detenidas_total,
            "actas": [{**asdict(a), "desde": a.desde.isoformat()} for a in result.detenidas],
        },
        "inconsistencias": {
            codigo: result.inconsistencias.get(codigo, 0) for codigo in ETIQUETAS_INCONSISTENCIA
        },
    }
