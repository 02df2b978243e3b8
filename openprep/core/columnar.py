"""Audit a published PREP database at national scale: the row path's rules, vectorized.

:func:`audit_file` returns exactly the :class:`~openprep.core.audit.AuditReport` that
``audit(reader.header, reader.rows(), settings=…)`` returns, several times faster
(benchmarks/README.md). :class:`~openprep.core.prepdb.PrepDbReader` reads the header;
polars reads the rows in batches of at most :data:`BATCH_BYTES`; the rules of
:mod:`openprep.core.rules`, the summary of :class:`~openprep.core.tally.Summary` and the
comparisons of :mod:`openprep.core.audit` are polars expressions.

Numeric and label columns are read as categoricals: each distinct cell text (a few
thousand in a national file) is read once, in Python, with the reader's and the rules'
own tests (:mod:`openprep.core.columnar_input`), and the columns are mapped through
those readings. No cell is interpreted by rules of polars' own.

The fast path never guesses. Before a batch counts it proves that the row path reads
it the same way: plain lines (no quotes but those of ``="…"``, no bare CR, no blank
line, no BOM), exactly one cell per column, every integer a string of ASCII digits,
every vote field a number, ILEGIBLE, SIN DATO or ``-``, a CLAVE_CASILLA whose reading
is unambiguous, unique CLAVE_ACTA. Anything else (a row the reader rejects, an edge it
treats specially) raises :class:`NotColumnar`, and :func:`audit_file` hands the whole
file to the row path, which produces the report or the precise
:class:`~openprep.core.prepdb.PrepDbError`: error messages live in one place.

Memory: one batch at a time, plus what the file-wide checks (repeated CLAVE_ACTA,
repeated SHA) need of every acta: CLAVE_ACTA, SHA, line and two hashes, about 100 bytes.
"""

from __future__ import annotations

import heapq
import logging
from pathlib import Path
from typing import Any, Final

import polars as pl

from openprep.core.audit import (
    MISSING_SHA,
    AuditReport,
    Discrepancy,
    Warning,
    audit,
    captured_before_acopio,
    shared_sha,
    verified_before_capture,
    within_allowance,
)
from openprep.core.columnar_input import (
    CLAVE_CASILLA_RE,
    CONT_0,
    CONT_1,
    CONT_2,
    CONT_AMBIGUOUS,
    FUERA_CLAVE_RE,
    KIND_BLANK,
    KIND_EMPTY,
    KIND_NO_APLICA,
    KIND_NUMBER,
    OBS_ALGUN,
    OBS_EXCEDE,
    OBS_INCONSISTENCIAS,
    OBS_NONE,
    OBS_SIN_ACTA,
    OBS_TODOS,
    Lookups,
    NotColumnar,
    Tables,
    batches,
    observacion,
)
from openprep.core.model import CONTROL_FIELDS
from openprep.core.prepdb import MAX_LINE_CHARS, PrepDbHeader, PrepDbReader
from openprep.core.prepdb_layout import DEFAULT_ZERO_COLUMNS, INT_COLUMNS
from openprep.core.rules import Representantes, RuleSettings
from openprep.core.tally import SUMMARY_FIELDS, Summary

log = logging.getLogger(__name__)

BATCH_BYTES = 16 << 20
"""Bytes of rows parsed at once (about 50,000 actas): fastest measured on 2 cores."""

_LABEL_COLUMNS: Final = ("TIPO_CASILLA", "TIPO_ACTA", "OBSERVACIONES", "CONTABILIZADA")

# Order of one acta's warnings in core.audit: _audit_row's first, then _warn's.
_W_EXCESS, _W_ACOPIO, _W_VERIFICACION, _W_SHA = range(4)


def audit_file(path: str | Path, *, settings: RuleSettings) -> AuditReport:
    """Audit a PREP database: columnar when it applies, else row by row; same report."""
    try:
        return audit_columnar(path, settings=settings)
    except NotColumnar as exc:
        log.info("%s: row-by-row audit (%s)", path, exc)
        return audit_rows(path, settings=settings)


def audit_rows(path: str | Path, *, settings: RuleSettings) -> AuditReport:
    """The reference implementation: each row read into an ActaRecord and checked."""
    with PrepDbReader(path, settings=settings) as reader:
        return audit(reader.header, reader.rows(), settings=settings)


def audit_columnar(path: str | Path, *, settings: RuleSettings) -> AuditReport:
    """The columnar path alone; raises :class:`NotColumnar` where it does not apply.

    A header the reader rejects raises its :class:`PrepDbError`, as the row path would.
    """
    with PrepDbReader(path, settings=settings) as reader:
        header = reader.header
        header_lines = reader.header_lines
    run = _ColumnarAudit(header, settings=settings)
    for first_line, rows, body in batches(Path(path), header_lines=header_lines, size=BATCH_BYTES):
        run.add_batch(body, rows=rows, first_line=first_line)
    return run.report()


def _lut(values: list[Any], dtype: pl.DataType) -> pl.Expr:
    """A lookup table to ``gather`` from: code → value."""
    return pl.lit(pl.Series(values, dtype=dtype))


class _ColumnarAudit:
    """The column plan of one header, plus the running summary, findings and keys."""

    def __init__(self, header: PrepDbHeader, *, settings: RuleSettings) -> None:
        self.header = header
        self.settings = settings
        self.lookups = Lookups(settings=settings)
        index = {name: i for i, name in enumerate(header.columns)}
        self.index = index
        self.width = len(header.columns)
        self.delimiter = header.delimiter.encode()
        contenders = [index[c.clave] for c in header.election.contenders]
        self.votes = [*contenders, index["NO_REGISTRADOS"], index["NULOS"]]
        values = (*CONTROL_FIELDS, "NO_REGISTRADOS", "NULOS", "TOTAL_VOTOS_ASENTADO")
        self.values = [*contenders, *(index[n] for n in values if n in index)]
        self.representatives = [contenders[i] for i in header.election.representative_positions]
        self.ints = [index[n] for n in INT_COLUMNS if n in index and n not in DEFAULT_ZERO_COLUMNS]
        self.default_zero = [
            index[n] for n in INT_COLUMNS if n in index and n in DEFAULT_ZERO_COLUMNS
        ]
        cells = {*self.values, *self.ints, *self.default_zero}
        self.numeric = sorted({*cells, index["TOTAL_VOTOS_CALCULADO"]})
        self.labels = sorted(index[n] for n in _LABEL_COLUMNS)
        self.strings = [i for i in range(self.width) if i not in {*self.numeric, *self.labels}]
        numbers, texts = self.lookups.numbers, self.lookups.texts
        self.schema: dict[str, pl.DataType] = {
            f"c{i}": numbers if i in self.numeric else texts if i in self.labels else pl.String()
            for i in range(self.width)
        }

        self.summary = Summary(actas_esperadas=int(header.summary["ACTAS_ESPERADAS"]))
        self.actas = 0
        self.discrepancies: list[Discrepancy] = []
        self.warnings: list[tuple[int, int, Warning]] = []
        self.keys: list[pl.DataFrame] = []

    def col(self, name: str) -> pl.Expr:
        return pl.col(f"c{self.index[name]}")

    def text(self, name: str) -> pl.Expr:
        """A text column, or ``""`` where the variant lacks it (as the reader pads it)."""
        return self.col(name) if name in self.index else pl.lit("")

    @staticmethod
    def code(i: int) -> pl.Expr:
        """The code of a numeric or label cell in this batch's tables."""
        return pl.col(f"p{i}")

    @staticmethod
    def kind(i: int) -> pl.Expr:
        """The kind of a numeric cell (KIND_NUMBER, KIND_NO_APLICA, …)."""
        return pl.col(f"k{i}")

    # -- one batch --

    def add_batch(self, body: bytes, *, rows: int, first_line: int) -> None:
        try:
            raw = pl.read_csv(
                body,
                has_header=False,
                separator=self.header.delimiter,
                quote_char=None,
                schema=self.schema,
                infer_schema=False,
                empty_string_is_null=False,
                truncate_ragged_lines=False,
                raise_if_empty=False,
            )
        except Exception as exc:  # invalid UTF-8, too many cells, …: the reader says which
            raise NotColumnar(f"polars cannot read a batch: {exc}") from None
        if raw.height != rows:
            raise NotColumnar("rows and lines disagree")
        if body.count(self.delimiter) != rows * (self.width - 1):
            raise NotColumnar("a row has a different number of cells than the header")
        tables = self.lookups.tables()
        if tables is None:
            raise NotColumnar("too many distinct numbers")
        kinds = _lut([n.kind for n in tables.numbers], pl.UInt8())
        # An empty cell of a categorical column reads as null: the tables' last entry.
        empty_number, empty_text = len(tables.numbers) - 1, len(tables.texts) - 1
        frame = raw.with_columns(
            *(
                pl.col(f"c{i}").to_physical().fill_null(empty_number).alias(f"p{i}")
                for i in self.numeric
            ),
            *(
                pl.col(f"c{i}").to_physical().fill_null(empty_text).alias(f"p{i}")
                for i in self.labels
            ),
        ).with_columns(kinds.gather(self.code(i)).alias(f"k{i}") for i in self.numeric)
        frame = frame.with_columns(
            fuera=self.col("CLAVE_CASILLA").str.contains(FUERA_CLAVE_RE)
            | (
                self.label("CONTABILIZADA", [t.contabilizada for t in tables.texts], pl.UInt8())
                == CONT_2
            )
        )
        self.validate(frame, body=body, tables=tables)
        self.evaluate(frame, tables=tables, first_line=first_line)

    def label(self, name: str, table: list[Any], dtype: pl.DataType) -> pl.Expr:
        """A label or numeric column mapped through one of this batch's tables."""
        return _lut(table, dtype).gather(self.code(self.index[name]))

    def validate(self, frame: pl.DataFrame, *, body: bytes, tables: Tables) -> None:
        """Prove that the row path reads every cell of the batch as the columns do."""
        kind, fuera = self.kind, pl.col("fuera")
        clave = self.col("CLAVE_CASILLA")
        contabilizada = self.label(
            "CONTABILIZADA", [t.contabilizada for t in tables.texts], pl.UInt8()
        )
        checks: dict[str, pl.Expr] = {
            # The reader validates vote fields in every row, integers only inside the catalog.
            "a vote field is not a number, ILEGIBLE, SIN DATO or -": pl.any_horizontal(
                [pl.lit(False)] + [kind(i).max() > KIND_BLANK for i in self.values]
            ),
            "an integer field is not a number": pl.any_horizontal(
                [pl.lit(False)]
                + [((kind(i) != KIND_NUMBER) & ~fuera).any() for i in self.ints]
                + [
                    ((kind(i) != KIND_NUMBER) & (kind(i) != KIND_EMPTY) & ~fuera).any()
                    for i in self.default_zero
                ]
            ),
            "a CLAVE_CASILLA the reader may read two ways": ~(
                clave.str.contains(CLAVE_CASILLA_RE) | clave.str.contains(FUERA_CLAVE_RE)
            ).all(),
            "a CONTABILIZADA the reader may read two ways": (contabilizada == CONT_AMBIGUOUS).any(),
        }
        found = frame.select(
            **checks,
            quotes=(clave.str.starts_with('="').sum() * 2).cast(pl.Int64),
            longest=pl.sum_horizontal(
                [pl.lit(0, dtype=pl.Int64)]
                + [pl.col(f"c{i}").str.len_bytes().max().cast(pl.Int64) for i in self.strings]
            ),
        ).row(0, named=True)
        for reason in checks:
            if found[reason]:
                raise NotColumnar(reason)
        if body.count(b'"') != found["quotes"]:
            raise NotColumnar("quotes outside CLAVE_CASILLA")
        longest = found["longest"] + self.width
        longest += len(self.numeric) * max(len(t.encode()) for t in tables.number_names)
        longest += len(self.labels) * max(len(t.encode()) for t in tables.text_names)
        if longest >= MAX_LINE_CHARS - 2:
            raise NotColumnar("a line may reach the reader's length limit")

    def evaluate(self, frame: pl.DataFrame, *, tables: Tables, first_line: int) -> None:
        """Apply the rules to every acta of the batch; add it to the summary and findings."""
        settings = self.settings
        numbers, texts = tables.numbers, tables.texts
        values = _lut([n.value for n in numbers], pl.Int64())
        kind, index = self.kind, self.index

        def value(name: str) -> pl.Expr:
            if name not in index:
                return pl.lit(0, dtype=pl.Int64)
            return values.gather(self.code(index[name])).fill_null(0)

        def padded(name: str, width: int) -> pl.Expr:
            table = [n.pad2 if width == 2 else n.pad4 for n in numbers]
            return self.label(name, table, pl.String())

        total = pl.sum_horizontal(
            [pl.lit(0, dtype=pl.Int64)] + [values.gather(self.code(i)) for i in self.votes]
        )
        blank = pl.any_horizontal(kind(i) == KIND_BLANK for i in self.votes)
        some_number = pl.any_horizontal(kind(i) == KIND_NUMBER for i in self.votes)
        especial = self.label("TIPO_CASILLA", [t.especial for t in texts], pl.Boolean())
        base = (
            pl.when(especial)
            .then(pl.lit(settings.boletas_especial, dtype=pl.Int64))
            .otherwise(value("LISTA_NOMINAL"))
        )
        if settings.representantes is Representantes.COLUMNA:
            allowance = value("REPRESENTANTES_PP_CI")
        else:
            allowance = 2 * pl.sum_horizontal(
                [pl.lit(0, dtype=pl.Int64)]
                + [(kind(i) != KIND_NO_APLICA).cast(pl.Int64) for i in self.representatives]
            )
        expected_casilla = pl.concat_str(
            padded("ID_ESTADO", 2),
            padded("SECCION", 4),
            self.label("TIPO_CASILLA", tables.text_names, pl.String()),
            padded("ID_CASILLA", 2),
            padded("EXT_CONTIGUA", 2),
        )
        tipo_acta = self.label("TIPO_ACTA", [t.tipo_acta for t in texts], pl.String())
        rows = frame.select(
            "fuera",
            line=pl.int_range(first_line, first_line + frame.height, dtype=pl.Int64),
            clave_acta=self.col("CLAVE_ACTA"),
            sha=self.text("SHA"),
            published=self.label("OBSERVACIONES", [t.observacion for t in texts], pl.Int8()),
            contabilizada=self.label("CONTABILIZADA", [t.contabilizada for t in texts], pl.UInt8()),
            total=total,
            published_total=self.label(
                "TOTAL_VOTOS_CALCULADO", [n.canonical for n in numbers], pl.Int64()
            ),
            total_code=self.code(index["TOTAL_VOTOS_CALCULADO"]),
            contabilizada_code=self.code(index["CONTABILIZADA"]),
            observaciones_code=self.code(index["OBSERVACIONES"]),
            blank=blank,
            todos=blank & ~some_number,
            especial=especial,
            base=base,
            limit=base + allowance,
            lista_nominal=value("LISTA_NOMINAL"),
            clave_casilla=self.col("CLAVE_CASILLA"),
            expected_casilla=expected_casilla,
            expected_acta=pl.concat_str(expected_casilla, tipo_acta),
            acopio=self.text("FECHA_HORA_ACOPIO"),
            captura=self.text("FECHA_HORA_CAPTURA"),
            verificacion=self.text("FECHA_HORA_VERIFICACION"),
        )
        # rules.contabilizar: fuera de catálogo, then rules 1–4 in order.
        fuera = pl.col("fuera")
        sin_acta = pl.col("published").is_in(OBS_SIN_ACTA)
        excede = pl.col("total") > pl.col("limit")
        rows = rows.with_columns(
            decision=pl.when(fuera)
            .then(pl.lit(OBS_NONE, dtype=pl.Int8))
            .when(sin_acta)
            .then(pl.col("published"))
            .when(pl.col("todos"))
            .then(pl.lit(OBS_TODOS, dtype=pl.Int8))
            .when(excede)
            .then(pl.lit(OBS_EXCEDE, dtype=pl.Int8))
            .when(pl.col("blank"))
            .then(pl.lit(OBS_ALGUN, dtype=pl.Int8))
            .otherwise(pl.lit(OBS_NONE, dtype=pl.Int8)),
            counts=~fuera & ~sin_acta & ~pl.col("todos") & ~excede,
        )
        self.add_summary(rows)
        self.keys.append(
            rows.select(
                "clave_acta",
                "sha",
                "line",
                "fuera",
                clave_hash=pl.col("clave_acta").hash(seed=0),
                sha_hash=pl.col("sha").hash(seed=0),
            )
        )
        self.collect_findings(rows, tables=tables)
        self.actas += frame.height

    def add_summary(self, rows: pl.DataFrame) -> None:
        """tally.Summary.add for every acta of the batch."""
        counted = pl.col("counts")
        sums = rows.select(
            fuera=pl.col("fuera").sum().cast(pl.Int64),
            contabilizadas=counted.sum().cast(pl.Int64),
            inconsistencias=pl.col("decision").is_in(OBS_INCONSISTENCIAS).sum().cast(pl.Int64),
            lista_nominal=pl.col("lista_nominal").filter(counted).sum(),
            c_cs=pl.col("total").filter(counted).sum(),
            s_cs=pl.col("total").filter(counted & ~pl.col("especial")).sum(),
        ).row(0, named=True)
        summary = self.summary
        summary.actas_registradas += rows.height
        summary.actas_fuera_catalogo += sums["fuera"]
        summary.actas_contabilizadas += sums["contabilizadas"]
        summary.actas_inconsistencias += sums["inconsistencias"]
        summary.lista_nominal_contabilizadas += sums["lista_nominal"]
        summary.total_votos_c_cs += sums["c_cs"]
        summary.total_votos_s_cs += sums["s_cs"]

    def collect_findings(self, rows: pl.DataFrame, *, tables: Tables) -> None:
        """Discrepancies and warnings of the batch, in core.audit's order and wording."""
        counted, fuera, inside = pl.col("counts"), pl.col("fuera"), ~pl.col("fuera")
        unwrapped = (
            pl.col("clave_casilla").str.strip_prefix('="').str.strip_suffix('"')
        ).str.strip_chars_start("'")
        published = pl.col("contabilizada")
        flags = {
            "d_total": pl.col("published_total") != pl.col("total"),
            "d_contabilizada": pl.when(fuera)
            .then((published != CONT_0) & (published != CONT_2))
            .otherwise(published != pl.when(counted).then(CONT_1).otherwise(CONT_0)),
            "d_observaciones": inside & (pl.col("published") != pl.col("decision")),
            "d_casilla": inside & (unwrapped != pl.col("expected_casilla")),
            "d_acta": inside & (pl.col("clave_acta") != pl.col("expected_acta")),
            "w_excess": counted & (pl.col("total") > pl.col("base")),
            "w_acopio": (pl.col("acopio") != "")
            & (pl.col("captura") != "")
            & (pl.col("captura") < pl.col("acopio")),
            "w_verificacion": (pl.col("captura") != "")
            & (pl.col("verificacion") != "")
            & (pl.col("verificacion") < pl.col("captura")),
            "w_sha": inside & (pl.col("sha") == "") & ~pl.col("published").is_in(OBS_SIN_ACTA),
        }
        flagged = (
            rows.with_columns(**flags)
            .filter(pl.any_horizontal(*flags))
            .with_columns(clave_casilla=unwrapped)
        )
        label = self.settings.label
        found = self.discrepancies
        warnings = self.warnings
        numbers, texts = tables.number_names, tables.text_names
        for row in flagged.iter_rows(named=True):
            line, clave = row["line"], row["clave_acta"]
            if row["d_total"]:
                published_total, total = numbers[row["total_code"]], str(row["total"])
                found.append(
                    Discrepancy(clave, "TOTAL_VOTOS_CALCULADO", published_total, total, line)
                )
            if row["d_contabilizada"]:
                published_cont = texts[row["contabilizada_code"]]
                recomputed = "1" if row["counts"] else "0"
                found.append(Discrepancy(clave, "CONTABILIZADA", published_cont, recomputed, line))
            if row["d_observaciones"]:
                published_label = texts[row["observaciones_code"]]
                decision = label(observacion(row["decision"]))
                found.append(Discrepancy(clave, "OBSERVACIONES", published_label, decision, line))
            if row["d_casilla"]:
                published_clave, expected = row["clave_casilla"], row["expected_casilla"]
                found.append(Discrepancy(clave, "CLAVE_CASILLA", published_clave, expected, line))
            if row["d_acta"]:
                found.append(Discrepancy(clave, "CLAVE_ACTA", clave, row["expected_acta"], line))
            if row["w_excess"]:
                message = within_allowance(row["total"] - row["base"])
                warnings.append((line, _W_EXCESS, Warning(clave, message, line)))
            if row["w_acopio"]:
                message = captured_before_acopio(captura=row["captura"], acopio=row["acopio"])
                warnings.append((line, _W_ACOPIO, Warning(clave, message, line)))
            if row["w_verificacion"]:
                message = verified_before_capture(
                    verificacion=row["verificacion"], captura=row["captura"]
                )
                warnings.append((line, _W_VERIFICACION, Warning(clave, message, line)))
            if row["w_sha"]:
                message = MISSING_SHA
                warnings.append((line, _W_SHA, Warning(clave, message, line)))

    # -- the whole file --

    def report(self) -> AuditReport:
        published = {name: self.header.summary[name] for name in SUMMARY_FIELDS}
        result = AuditReport(
            election=self.header.election.nombre, corte=self.header.corte, published=published
        )
        same_sha = self._same_sha()
        merged = heapq.merge(self.warnings, same_sha, key=lambda w: (w[0], w[1]))
        result.actas = self.actas
        result.discrepancies = self.discrepancies
        result.warnings = [warning for _, _, warning in merged]
        result.recomputed = self.summary.fields(participacion=self.settings.participacion)
        for name in SUMMARY_FIELDS:
            if result.recomputed[name] != published[name]:
                result.discrepancies.append(
                    Discrepancy(None, name, published[name], result.recomputed[name])
                )
        return result

    def _same_sha(self) -> list[tuple[int, int, Warning]]:
        """Actas whose image has the SHA of an earlier acta; refuses a repeated CLAVE_ACTA.

        Candidates are found on 64-bit hashes, then confirmed on the texts.
        """
        if not self.keys:
            return []
        keys = pl.concat(self.keys)
        self.keys = []
        inside = keys.filter(~pl.col("fuera") & pl.col("clave_hash").is_duplicated())
        if inside.get_column("clave_acta").is_duplicated().any():
            raise NotColumnar("a CLAVE_ACTA is repeated")
        shared = (
            keys.filter((pl.col("sha") != "") & pl.col("sha_hash").is_duplicated())
            .with_columns(first=pl.col("clave_acta").first().over("sha"))
            .filter(pl.col("clave_acta") != pl.col("first"))
            .sort("line")
        )
        return [
            (
                line,
                _W_SHA,
                Warning(clave, shared_sha(first), line),
            )
            for clave, first, line in shared.select("clave_acta", "first", "line").iter_rows()
        ]


__all__ = ["BATCH_BYTES", "NotColumnar", "audit_columnar", "audit_file", "audit_rows"]
