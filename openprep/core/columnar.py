"""Audit a published PREP database at national scale: the row path's rules, vectorized.

:func:`audit_file` returns exactly the :class:`~openprep.core.audit.AuditReport` that
``audit(reader.header, reader.rows(), settings=…)`` returns, in a fraction of the time
(benchmarks/README.md): the header is read by :class:`~openprep.core.prepdb.PrepDbReader`,
the rows by polars in bounded batches of raw bytes, and the rules of
:mod:`openprep.core.rules`, the summary of :class:`~openprep.core.tally.Summary` and the
comparisons of :mod:`openprep.core.audit` are polars expressions.

The fast path never guesses. Before a batch counts it proves that the row path would
have read it the same way: plain lines (no quoting, no bare CR, no blank line, no BOM),
exactly one cell per column, every number a string of ASCII digits, every vote field a
number, ILEGIBLE, SIN DATO or ``-``, a CLAVE_CASILLA that names a casilla of the
catalog, a CONTABILIZADA of 0 or 1, unique CLAVE_ACTA. Anything else (a row the row
path would reject, a row fuera de catálogo, an edge the row path treats specially)
raises :class:`NotColumnar` internally, and :func:`audit_file` hands the whole file to
the row path, which produces the report or the precise :class:`PrepDbError`. Error
messages therefore live in one place: :mod:`openprep.core.prepdb`.

Memory: a batch is at most :data:`BATCH_BYTES` of the file; across batches only the
keys needed for file-wide checks are kept (CLAVE_ACTA and SHA, about 100 bytes an acta).
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import polars as pl

from openprep.core.audit import AuditReport, Discrepancy, Warning, audit
from openprep.core.model import CONTROL_FIELDS, Marca, TipoCasilla
from openprep.core.prepdb import (
    _DEFAULT_ZERO,
    _INT_COLUMNS,
    MAX_LINE_CHARS,
    PrepDbHeader,
    PrepDbReader,
    decisive_observation,
)
from openprep.core.rules import Observacion, Representantes, RuleSettings
from openprep.core.tally import SUMMARY_FIELDS, Summary

log = logging.getLogger(__name__)

BATCH_BYTES: Final = 4 << 20
"""Bytes of rows parsed at once: measured fastest on 2 cores, and it bounds memory."""

_OBSERVACIONES: Final = tuple(Observacion)
_NONE: Final = -1
"""Code of "no observation" in the integer columns (an Observacion is its index)."""
_UNKNOWN: Final = -2
"""Code of a published label that no label table knows."""
_SIN_ACTA_CODES: Final = tuple(i for i, o in enumerate(_OBSERVACIONES) if o.es_sin_acta)
_TODOS: Final = _OBSERVACIONES.index(Observacion.TODOS_ILEGIBLES_O_SIN_DATO)
_EXCEDE: Final = _OBSERVACIONES.index(Observacion.EXCEDE_LISTA_NOMINAL)
_ALGUN: Final = _OBSERVACIONES.index(Observacion.ALGUN_DATO_ILEGIBLE_O_SIN_DATO)

_MARCAS: Final = [m.value for m in Marca]
_BLANKS: Final = [Marca.ILEGIBLE.value, Marca.SIN_DATO.value]
_CLAVE_CASILLA_RE: Final = r"""^(?:="[0-9A-Za-z]+"|'*[0-9A-Za-z]+)$"""
"""CLAVE_CASILLA cells whose reading is unambiguous: ``="…"``, plain, or with leading ``'``."""
_CACHE_LIMIT: Final = 200_000 - len(_MARCAS)
_SHORT_NUMBERS: Final = 10 + 100 + 1_000 + 10_000
"""Distinct digit strings of at most 4 characters."""

# Order of an acta's warnings in core.audit: _audit_row's, then _warn's.
_W_EXCESS, _W_ACOPIO, _W_VERIFICACION, _W_SHA = range(4)


class NotColumnar(Exception):
    """The fast path met something it does not fully validate; the row path decides."""


def audit_file(path: str | Path, *, settings: RuleSettings) -> AuditReport:
    """Audit a PREP database; the columnar path when it applies, else the row path."""
    try:
        return audit_columnar(path, settings=settings)
    except NotColumnar as exc:
        log.info("%s: auditoría fila por fila (%s)", path, exc)
        return audit_rows(path, settings=settings)


def audit_rows(path: str | Path, *, settings: RuleSettings) -> AuditReport:
    """The reference implementation: every row parsed into an ActaRecord and checked."""
    with PrepDbReader(path, settings=settings) as reader:
        return audit(reader.header, reader.rows(), settings=settings)


def audit_columnar(path: str | Path, *, settings: RuleSettings) -> AuditReport:
    """The columnar path alone; raises :class:`NotColumnar` where it does not apply.

    A header the reader rejects raises its :class:`PrepDbError`, as the row path would.
    """
    with PrepDbReader(path, settings=settings) as reader:
        header = reader.header
        header_lines = reader._line
    run = _ColumnarAudit(header, settings=settings)
    for first_line, body in _batches(Path(path), header_lines=header_lines):
        run.add_batch(body, first_line=first_line)
    return run.report()


# -- bytes -------------------------------------------------------------------------


def _batches(path: Path, *, header_lines: int) -> Iterator[tuple[int, bytes]]:
    """The rows in batches of whole lines, each with the line number of its first row.

    The reader counts lines with Python's universal newlines (LF, CRLF and a bare CR);
    bare CRs are refused so that line numbers agree. Blank lines may only close the file.
    """
    with open(path, "rb") as f:
        head = b"".join(f.readline() for _ in range(header_lines))
        if head.count(b"\r") != head.count(b"\r\n"):
            raise NotColumnar("bare CR in the header")
        line = header_lines + 1
        rest = b""
        blank_seen = False
        while True:
            block = f.read(BATCH_BYTES)
            data = rest + block if rest else block
            if block:
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    rest = data
                    continue
                chunk, rest = data[:cut], data[cut:]
            else:
                chunk, rest = data, b""
            body = chunk.rstrip(b"\r\n")
            if body:
                if blank_seen:
                    raise NotColumnar("blank line between rows")
                if chunk[len(body) :] not in (b"\n", b"\r\n", b"", b"\r"):
                    blank_seen = True
                if b"\r" in body and body.count(b"\r") != body.count(b"\r\n"):
                    raise NotColumnar("bare CR between rows")
                if body.startswith(b"\xef\xbb\xbf"):
                    raise NotColumnar("BOM at the start of a row")
                yield line, body
                line += body.count(b"\n") + 1
            elif chunk:
                blank_seen = True
            if not block:
                return


# -- the columnar audit ------------------------------------------------------------


@dataclass(slots=True)
class _Keys:
    """What file-wide checks need from every acta: CLAVE_ACTA, SHA, line."""

    frames: list[pl.DataFrame] = field(default_factory=list)


class _ColumnarAudit:
    """Column plan of one header, plus the running summary, findings and keys."""

    def __init__(self, header: PrepDbHeader, *, settings: RuleSettings) -> None:
        self.header = header
        self.settings = settings
        columns = header.columns
        self.width = len(columns)
        self.delimiter = header.delimiter.encode()
        index = {name: i for i, name in enumerate(columns)}
        self.index = index
        self.schema = {f"c{i}": pl.String for i in range(self.width)}
        contenders = [index[c.clave] for c in header.election.contenders]
        self.votes = [*contenders, index["NO_REGISTRADOS"], index["NULOS"]]
        self.values = [
            *contenders,
            *(index[n] for n in (*CONTROL_FIELDS, "TOTAL_VOTOS_ASENTADO") if n in index),
            index["NO_REGISTRADOS"],
            index["NULOS"],
        ]
        self.representatives = [contenders[i] for i in header.election.representative_positions]
        self.ints = [index[n] for n in _INT_COLUMNS if n in index]
        self.default_zero = [index[n] for n in _INT_COLUMNS if n in index and n in _DEFAULT_ZERO]
        self.int_missing = any(n not in index for n in _INT_COLUMNS)
        self.labels: dict[str, int] = {}

        self.summary = Summary(actas_esperadas=int(header.summary["ACTAS_ESPERADAS"]))
        self.actas = 0
        self.discrepancies: list[Discrepancy] = []
        self.warnings: list[tuple[int, int, Warning]] = []
        self.keys = _Keys()
        self.zero_cached = False
        self.long_numbers = 0

    # -- cells --

    def col(self, name: str) -> pl.Expr:
        return pl.col(f"c{self.index[name]}")

    def text(self, name: str) -> pl.Expr:
        """A text column, or ``""`` where the variant lacks it (as the reader pads it)."""
        return self.col(name) if name in self.index else pl.lit("")

    @staticmethod
    def c(i: int) -> pl.Expr:
        return pl.col(f"c{i}")

    @staticmethod
    def n(i: int) -> pl.Expr:
        return pl.col(f"n{i}")

    def number(self, name: str) -> pl.Expr:
        """An integer column as Int64; a missing or empty default-zero cell reads 0."""
        if name not in self.index:
            return pl.lit(0, dtype=pl.Int64)
        return self.n(self.index[name]).fill_null(0).cast(pl.Int64)

    def label_codes(self, labels: Sequence[str]) -> None:
        """Read each new OBSERVACIONES label once, with the row path's own function."""
        for label in labels:
            if label in self.labels:
                continue
            try:
                code = decisive_observation(label, settings=self.settings)
            except KeyError:
                self.labels[label] = _UNKNOWN
            else:
                self.labels[label] = _NONE if code is None else _OBSERVACIONES.index(code)

    # -- one batch --

    def add_batch(self, body: bytes, *, first_line: int) -> None:
        rows = body.count(b"\n") + 1
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
        typed = raw.with_columns(
            self.c(i).cast(pl.UInt32, strict=False).alias(f"n{i}")
            for i in sorted({*self.values, *self.ints})
        )
        self.validate(typed, body=body)
        self.check_zero_cache(typed)
        self.evaluate(typed, first_line=first_line)

    def validate(self, typed: pl.DataFrame, *, body: bytes) -> None:
        """Prove that the row path reads every cell of the batch as the columns do."""
        clave = self.col("CLAVE_CASILLA")
        checks: dict[str, pl.Expr] = {
            "a vote field is not a number, ILEGIBLE, SIN DATO or -": pl.any_horizontal(
                (self.n(i).is_null() & ~self.c(i).is_in(_MARCAS)).any() for i in self.values
            ),
            "an integer field is not a number": pl.any_horizontal(
                (
                    self.n(i).is_null() & (self.c(i) != "")
                    if i in self.default_zero
                    else self.n(i).is_null()
                ).any()
                for i in self.ints
            ),
            "fuera de catálogo or unusual CLAVE_CASILLA": ~clave.str.contains(
                _CLAVE_CASILLA_RE
            ).all(),
            "CONTABILIZADA other than 0 or 1": ~self.col("CONTABILIZADA").is_in(["0", "1"]).all(),
            "TIPO_ACTA not ASCII": ~self.col("TIPO_ACTA").str.contains(r"^[\x00-\x7F]*$").all(),
        }
        numeric = sorted({*self.values, *self.ints})
        aggregates = {
            **checks,
            "quotes": (clave.str.starts_with('="').sum() * 2).cast(pl.Int64),
            "longest": pl.sum_horizontal(
                self.c(i).str.len_bytes().max().cast(pl.Int64) for i in range(self.width)
            ),
            "long_numbers": pl.sum_horizontal(
                (self.n(i).is_not_null() & (self.c(i).str.len_bytes() >= 5)).sum().cast(pl.Int64)
                for i in numeric
            ),
        }
        if b"+" in body:  # polars reads "+5" as 5; the reader rejects it
            aggregates["a number with a sign"] = pl.any_horizontal(
                self.c(i).str.starts_with("+").any() for i in numeric
            )
        found = typed.select(**aggregates).row(0, named=True)
        for reason in (*checks, "a number with a sign"):
            if found.get(reason):
                raise NotColumnar(reason)
        if body.count(b'"') != found["quotes"]:
            raise NotColumnar("quotes outside CLAVE_CASILLA")
        if found["longest"] + self.width >= MAX_LINE_CHARS - 2:
            raise NotColumnar("a line near the reader's length limit")
        self.long_numbers += found["long_numbers"]
        if _SHORT_NUMBERS + self.long_numbers >= _CACHE_LIMIT:
            raise NotColumnar("too many distinct numbers for the reader's cache")

    def check_zero_cache(self, typed: pl.DataFrame) -> None:
        """Refuse what the row path cannot read: a row that needs a cached "0" before any.

        The reader reads a missing or empty integer column as the cached cell "0", and a
        cell is cached only when a row holding it is validated; the first row that needs
        "0" before any row has held it fails there (an assertion in prepdb).
        """
        if self.zero_cached:
            return
        holds_zero = pl.any_horizontal(self.c(i) == "0" for i in sorted({*self.values, *self.ints}))
        needs_zero = (
            pl.lit(True)
            if self.int_missing
            else pl.any_horizontal([pl.lit(False), *(self.c(i) == "" for i in self.default_zero)])
        )
        found = typed.select(
            zero=holds_zero.arg_true().first(), need=needs_zero.arg_true().first()
        ).row(0, named=True)
        zero, need = found["zero"], found["need"]
        if need is not None and (zero is None or zero > need):
            raise NotColumnar('a row needs the cell "0" before the reader has cached it')
        self.zero_cached = zero is not None

    def evaluate(self, typed: pl.DataFrame, *, first_line: int) -> None:
        """Apply the rules to every acta of the batch and record what differs."""
        settings = self.settings
        obs_cell = self.col("OBSERVACIONES")
        self.label_codes(typed.get_column(f"c{self.index['OBSERVACIONES']}").unique().to_list())
        published = obs_cell.replace_strict(
            list(self.labels), list(self.labels.values()), return_dtype=pl.Int8
        )
        votes = [self.n(i).fill_null(0).cast(pl.Int64) for i in self.votes]
        total = pl.sum_horizontal(votes)
        blank = pl.any_horizontal(self.c(i).is_in(_BLANKS) for i in self.votes)
        todos = blank & ~pl.any_horizontal(self.n(i).is_not_null() for i in self.votes)
        especial = self.col("TIPO_CASILLA") == TipoCasilla.ESPECIAL.value
        base = (
            pl.when(especial)
            .then(pl.lit(settings.boletas_especial, dtype=pl.Int64))
            .otherwise(self.number("LISTA_NOMINAL"))
        )
        if settings.representantes is Representantes.COLUMNA:
            allowance = self.number("REPRESENTANTES_PP_CI")
        else:
            allowance = 2 * pl.sum_horizontal(
                [pl.lit(0, dtype=pl.Int64)]
                + [
                    (self.c(i) != Marca.NO_APLICA.value).cast(pl.Int64)
                    for i in self.representatives
                ]
            )
        sin_acta = pl.col("published").is_in(_SIN_ACTA_CODES)
        excede = pl.col("total") > pl.col("base") + pl.col("allowance")
        decision = (
            pl.when(sin_acta)
            .then(pl.col("published"))
            .when(pl.col("todos"))
            .then(pl.lit(_TODOS))
            .when(excede)
            .then(pl.lit(_EXCEDE))
            .when(pl.col("blank"))
            .then(pl.lit(_ALGUN))
            .otherwise(pl.lit(_NONE))
            .cast(pl.Int8)
        )
        clave = (
            self.col("CLAVE_CASILLA").str.strip_prefix('="').str.strip_suffix('"')
        ).str.strip_chars_start("'")
        expected = pl.concat_str(
            self.number("ID_ESTADO").cast(pl.String).str.zfill(2),
            self.number("SECCION").cast(pl.String).str.zfill(4),
            self.col("TIPO_CASILLA"),
            self.number("ID_CASILLA").cast(pl.String).str.zfill(2),
            self.number("EXT_CONTIGUA").cast(pl.String).str.zfill(2),
        )
        tipo_acta = self.col("TIPO_ACTA")
        acopio, captura = self.text("FECHA_HORA_ACOPIO"), self.text("FECHA_HORA_CAPTURA")
        verificacion, sha = self.text("FECHA_HORA_VERIFICACION"), self.text("SHA")
        frame = typed.select(
            line=pl.int_range(first_line, first_line + typed.height, dtype=pl.Int64),
            clave_acta=self.col("CLAVE_ACTA"),
            published=published,
            total=total,
            blank=blank,
            todos=todos,
            especial=especial,
            base=base,
            allowance=allowance,
            ln=self.number("LISTA_NOMINAL"),
            total_publicado=self.col("TOTAL_VOTOS_CALCULADO"),
            contabilizada_publicada=self.col("CONTABILIZADA"),
            observaciones=obs_cell,
            clave_casilla=clave,
            expected_casilla=expected,
            expected_acta=pl.concat_str(
                expected,
                pl.when(tipo_acta.str.contains("^[0-9]+$"))
                .then(tipo_acta.str.zfill(2))
                .otherwise(tipo_acta),
            ),
            acopio=acopio,
            captura=captura,
            verificacion=verificacion,
            sha=sha,
        ).with_columns(decision=decision, counts=~sin_acta & ~pl.col("todos") & ~excede)
        self.add_summary(frame)
        self.keys.frames.append(frame.select("clave_acta", "sha", "line"))
        self.collect_findings(frame)
        self.actas += typed.height

    def add_summary(self, frame: pl.DataFrame) -> None:
        counted = pl.col("counts")
        sums = frame.select(
            contabilizadas=counted.sum(),
            inconsistencias=pl.col("decision").is_in([_TODOS, _EXCEDE, _ALGUN]).sum(),
            ln=pl.col("ln").filter(counted).sum(),
            c_cs=pl.col("total").filter(counted).sum(),
            s_cs=pl.col("total").filter(counted & ~pl.col("especial")).sum(),
        ).row(0, named=True)
        summary = self.summary
        summary.actas_registradas += frame.height
        summary.actas_contabilizadas += int(sums["contabilizadas"])
        summary.actas_inconsistencias += int(sums["inconsistencias"])
        summary.lista_nominal_contabilizadas += int(sums["ln"])
        summary.total_votos_c_cs += int(sums["c_cs"])
        summary.total_votos_s_cs += int(sums["s_cs"])

    def collect_findings(self, frame: pl.DataFrame) -> None:
        """Discrepancies and warnings of the batch, in core.audit's order and wording."""
        counted = pl.col("counts")
        flags = frame.select(
            "line",
            "clave_acta",
            "total",
            "decision",
            "total_publicado",
            "contabilizada_publicada",
            "observaciones",
            "clave_casilla",
            "expected_casilla",
            "expected_acta",
            "acopio",
            "captura",
            "verificacion",
            "counts",
            excess=pl.when(counted & (pl.col("total") > pl.col("base"))).then(
                pl.col("total") - pl.col("base")
            ),
            d_total=pl.col("total_publicado") != pl.col("total").cast(pl.String),
            d_contabilizada=pl.col("contabilizada_publicada")
            != pl.when(counted).then(pl.lit("1")).otherwise(pl.lit("0")),
            d_observaciones=pl.col("published") != pl.col("decision"),
            d_casilla=pl.col("clave_casilla") != pl.col("expected_casilla"),
            d_acta=pl.col("clave_acta") != pl.col("expected_acta"),
            w_acopio=(pl.col("acopio") != "")
            & (pl.col("captura") != "")
            & (pl.col("captura") < pl.col("acopio")),
            w_verificacion=(pl.col("captura") != "")
            & (pl.col("verificacion") != "")
            & (pl.col("verificacion") < pl.col("captura")),
            w_sha=(pl.col("sha") == "") & ~pl.col("published").is_in(_SIN_ACTA_CODES),
        )
        marks = ("d_total", "d_contabilizada", "d_observaciones", "d_casilla", "d_acta")
        warns = ("w_acopio", "w_verificacion", "w_sha")
        flagged = flags.filter(pl.any_horizontal(*marks, *warns, pl.col("excess").is_not_null()))
        label = self.settings.label
        found = self.discrepancies
        warnings = self.warnings
        for row in flagged.iter_rows(named=True):
            line, clave = row["line"], row["clave_acta"]
            recomputed = None if row["decision"] == _NONE else _OBSERVACIONES[row["decision"]]
            if row["d_total"]:
                found.append(
                    Discrepancy(
                        clave,
                        "TOTAL_VOTOS_CALCULADO",
                        row["total_publicado"],
                        str(row["total"]),
                        line,
                    )
                )
            if row["d_contabilizada"]:
                found.append(
                    Discrepancy(
                        clave,
                        "CONTABILIZADA",
                        row["contabilizada_publicada"],
                        "1" if row["counts"] else "0",
                        line,
                    )
                )
            if row["d_observaciones"]:
                found.append(
                    Discrepancy(
                        clave, "OBSERVACIONES", row["observaciones"], label(recomputed), line
                    )
                )
            if row["d_casilla"]:
                found.append(
                    Discrepancy(
                        clave, "CLAVE_CASILLA", row["clave_casilla"], row["expected_casilla"], line
                    )
                )
            if row["d_acta"]:
                found.append(Discrepancy(clave, "CLAVE_ACTA", clave, row["expected_acta"], line))
            if row["excess"] is not None:
                warnings.append((line, _W_EXCESS, _excess_warning(clave, row["excess"], line)))
            if row["w_acopio"]:
                message = f"capturada ({row['captura']}) antes de su acopio ({row['acopio']})."
                warnings.append((line, _W_ACOPIO, Warning(clave, message, line)))
            if row["w_verificacion"]:
                message = (
                    f"verificada ({row['verificacion']}) antes de su captura ({row['captura']})."
                )
                warnings.append((line, _W_VERIFICACION, Warning(clave, message, line)))
            if row["w_sha"]:
                message = "no publica el SHA de su imagen."
                warnings.append((line, _W_SHA, Warning(clave, message, line)))

    # -- the whole file --

    def report(self) -> AuditReport:
        published = {name: self.header.summary[name] for name in SUMMARY_FIELDS}
        result = AuditReport(
            election=self.header.election.nombre, corte=self.header.corte, published=published
        )
        keys = (
            pl.concat(self.keys.frames, rechunk=False)
            if self.keys.frames
            else pl.DataFrame(schema={"clave_acta": pl.String, "sha": pl.String, "line": pl.Int64})
        )
        if keys.get_column("clave_acta").is_duplicated().any():
            raise NotColumnar("a CLAVE_ACTA is repeated")
        shared = (
            keys.filter(pl.col("sha") != "")
            .with_columns(first=pl.col("clave_acta").first().over("sha"))
            .filter(pl.col("clave_acta") != pl.col("first"))
            .sort("line")
        )
        same_sha = [
            (
                line,
                _W_SHA,
                Warning(clave, f"su imagen tiene el mismo SHA que la del acta {other}.", line),
            )
            for clave, other, line in shared.select("clave_acta", "first", "line").iter_rows()
        ]
        merged = heapq.merge(self.warnings, same_sha, key=lambda item: (item[0], item[1]))
        result.actas = self.actas
        result.discrepancies = list(self.discrepancies)
        result.warnings = [warning for _, _, warning in merged]
        result.recomputed = self.summary.fields(participacion=self.settings.participacion)
        for name in SUMMARY_FIELDS:
            if result.recomputed[name] != published[name]:
                result.discrepancies.append(
                    Discrepancy(None, name, published[name], result.recomputed[name])
                )
        return result


def _excess_warning(clave: str, excess: int, line: int) -> Warning:
    return Warning(
        clave,
        f"cuenta aunque sus votos superan la lista nominal por {excess}: "
        "queda dentro del margen de representantes.",
        line,
    )


__all__ = ["NotColumnar", "audit_columnar", "audit_file", "audit_rows"]
