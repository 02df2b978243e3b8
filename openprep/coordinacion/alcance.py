"""Which actas a coordinator sees: those of their CATDs, or every one.

An acta's CATD is its casilla's; for an acta without one (fuera de catálogo, or a catalog
that assigns no CATDs) it is the CATD recorded on its ACOPIO event. A coordinator granted
every CATD also sees the actas that have none.

The rule is one SQL expression (:func:`actas_con_catd`), but filtering on it reads every
acta of the election night: at national scale (half a million actas) that made each
dashboard of one CATD take about 2 s of the database. So a coordinator's actas are found
first by what indexes can answer (their casillas' actas; the actas whose ACOPIO event
names one of their CATDs, then checked with the rule), and the figures read those actas
by id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import CharField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, NullIf

from openprep.accounts.access import catds_visibles, operador_de
from openprep.catalog.models import ActaEsperada
from openprep.intake.models import Acta, EventoActa, TipoEvento

MAX_IDS = 20_000
"""Beyond this many actas (a coordinator granted many CATDs), the figures filter on the
rule itself instead of a list of ids (one bound parameter per id)."""


def actas_con_catd() -> QuerySet[Acta]:
    """Every registered acta, annotated with ``catd_clave`` (see the module's docstring)."""
    acopio = (
        EventoActa.objects.filter(acta=OuterRef("pk"), tipo=TipoEvento.ACOPIO)
        .order_by("id")
        .values("catd")[:1]
    )
    return Acta.objects.annotate(
        catd_clave=Coalesce(
            "esperada__casilla__catd__clave",
            NullIf(Subquery(acopio), Value("")),
            output_field=CharField(),
        )
    )


@dataclass(frozen=True, slots=True)
class Alcance:
    """What one coordinator may see: every CATD, or the listed claves."""

    todas: bool
    claves: frozenset[str]

    def puede_ver(self, clave: str) -> bool:
        return self.todas or clave in self.claves

    def actas(self) -> QuerySet[Acta]:
        """The coordinator's actas, annotated with ``catd_clave``."""
        actas = actas_con_catd()
        if self.todas:
            return actas
        ids = self._ids()
        if ids is None:
            return actas.filter(catd_clave__in=self.claves)
        return actas.filter(pk__in=ids)

    def _ids(self) -> list[int] | None:
        """The ids of the coordinator's actas, or None when there are over MAX_IDS."""
        claves = sorted(self.claves)
        de_sus_casillas = Acta.objects.filter(esperada__casilla__catd__clave__in=claves)
        # An acta whose casilla has no CATD is theirs when its ACOPIO event names one of
        # their CATDs (the rule takes the first such event: checked on these few actas).
        acopiadas_ahi = EventoActa.objects.filter(tipo=TipoEvento.ACOPIO, catd__in=claves)
        sin_catd = actas_con_catd().filter(
            pk__in=acopiadas_ahi.values("acta_id"),
            esperada__casilla__catd__isnull=True,
            catd_clave__in=claves,
        )
        ids: list[int] = []
        for query in (de_sus_casillas, sin_catd):
            ids.extend(query.order_by().values_list("pk", flat=True)[: MAX_IDS + 1 - len(ids)])
            if len(ids) > MAX_IDS:
                return None
        return ids

    def esperadas(self) -> QuerySet[ActaEsperada]:
        esperadas = ActaEsperada.objects.all()
        return esperadas if self.todas else esperadas.filter(casilla__catd__clave__in=self.claves)


def alcance_de(user: Any) -> Alcance:
    operador = operador_de(user)
    todas = bool(operador and operador.todas_las_catd)
    return Alcance(
        todas=todas, claves=frozenset(catds_visibles(user).values_list("clave", flat=True))
    )
