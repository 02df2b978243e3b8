"""Checks anyone can run on a published corte: signature, every file's hash, the chain."""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from openprep.core.audit import AuditReport
from openprep.core.columnar import audit_file
from openprep.core.errors import UserError
from openprep.core.manifest import MANIFEST_NAME, ManifestError, parse_manifest
from openprep.core.rules import Participacion, RuleSettings
from openprep.publish import signing
from openprep.publish.folder import CORTES, file_sha256, read_latest


@dataclass
class CorteCheck:
    """What was checked in one corte folder and what failed (Spanish, one line each)."""

    folder: Path
    manifest_sha256: str = ""
    anterior_sha256: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_corte(folder: Path) -> CorteCheck:
    """Signature by the key in the corte's allowed_signers, and every listed file's bytes."""
    check = CorteCheck(folder=folder)
    manifest_path = folder / MANIFEST_NAME
    allowed = folder / signing.ALLOWED_SIGNERS
    if not manifest_path.is_file():
        check.problems.append(f"{folder}: falta {MANIFEST_NAME}.")
        return check
    data = manifest_path.read_bytes()
    try:
        manifest = parse_manifest(data, where=str(manifest_path))
    except ManifestError as exc:
        check.problems.append(exc.text)
        return check
    check.manifest_sha256 = manifest.sha256()
    check.anterior_sha256 = manifest.anterior_sha256
    if not allowed.is_file():
        check.problems.append(f"{folder}: falta {signing.ALLOWED_SIGNERS}.")
    else:
        principal = allowed.read_text().split(maxsplit=1)[0]
        good, message = signing.verify(
            data, signature=folder / f"{MANIFEST_NAME}.sig", allowed=allowed, principal=principal
        )
        if not good:
            check.problems.append(f"{manifest_path}: la firma no es válida ({message}).")
    listed = {f.path for f in manifest.files}
    for entry in manifest.files:
        path = folder / entry.path
        if not path.is_file():
            check.problems.append(f"{path}: falta (el manifiesto lo lista).")
        elif path.stat().st_size != entry.size or file_sha256(path) != entry.sha256:
            check.problems.append(f"{path}: su contenido no coincide con el manifiesto.")
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_file() and relative not in listed and relative not in _SIGNATURE_FILES:
            check.problems.append(f"{path}: no está en el manifiesto.")
    return check


_SIGNATURE_FILES = {MANIFEST_NAME, f"{MANIFEST_NAME}.sig"}


def check_publication(publicacion: Path) -> list[CorteCheck]:
    """Every corte of a publication folder, newest first, and the chain between them."""
    latest = read_latest(publicacion)
    checks = [
        check_corte(folder)
        for folder in sorted((publicacion / CORTES).iterdir())
        if folder.is_dir() and not folder.name.startswith(".")
    ]
    by_hash = {c.manifest_sha256: c for c in checks if c.manifest_sha256}
    for check in checks:
        if check.anterior_sha256 and check.anterior_sha256 not in by_hash:
            check.problems.append(
                f"{check.folder}: el corte anterior que encadena "
                f"({check.anterior_sha256[:12]}…) no está en la publicación."
            )
    if latest is None:
        checks.insert(0, CorteCheck(folder=publicacion, problems=["falta latest.json."]))
    elif latest.manifest_sha256 not in by_hash:
        checks.insert(
            0,
            CorteCheck(
                folder=publicacion,
                problems=[f"latest.json nombra {latest.corte}, cuyo manifiesto no coincide."],
            ),
        )
    return list(reversed(checks))


def audit_downloads(
    folder: Path, *, settings: RuleSettings
) -> list[tuple[str, AuditReport | UserError]]:
    """Audit the PREP database in every download zip of a corte with the core's rules.

    The participation rule follows the manifest (``final``): during operation it leaves
    casillas especiales out (DOMAIN.md §5).
    """
    manifest = parse_manifest((folder / MANIFEST_NAME).read_bytes())
    settings = replace(
        settings, participacion=Participacion.FINAL if manifest.final else Participacion.OPERACION
    )
    results: list[tuple[str, AuditReport | UserError]] = []
    with tempfile.TemporaryDirectory(prefix="openprep-verify-") as scratch:
        for entry in manifest.files:
            if not entry.path.endswith(".zip"):
                continue
            try:
                with zipfile.ZipFile(folder / entry.path) as archive:
                    names = [n for n in archive.namelist() if n.endswith(".csv") and "_PREP_" in n]
                    for name in names:
                        path = Path(archive.extract(name, Path(scratch) / entry.path))
                        report = audit_file(path, settings=settings)
                        results.append((f"{entry.path}:{name}", report))
            except (zipfile.BadZipFile, OSError) as exc:
                results.append(
                    (entry.path, UserError(f"{entry.path}: no es un zip legible ({exc}).")),
                )
            except UserError as exc:
                results.append((entry.path, exc))
    return results
