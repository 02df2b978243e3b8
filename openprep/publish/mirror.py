"""Reading a publication from a URL: the latest corte copied aside, the chain by manifests.

``openprep verify URL`` checks exactly what a visitor downloads. It copies the current
corte (every file its manifest lists, plus the manifest, signature and allowed_signers)
to a temporary folder and checks it there like a local one; earlier cortes are checked
through their manifests only (each manifest's hash must be what the next one chains to).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import requests

from openprep.core.errors import UserError
from openprep.core.manifest import MANIFEST_NAME, Manifest, ManifestError, parse_manifest
from openprep.publish.folder import CORTES, LATEST, Latest, parse_latest

TIMEOUT = 60
_CHUNK = 1 << 20


class MirrorError(UserError):
    """A publication URL that cannot be read."""


def _get(session: requests.Session, url: str) -> requests.Response:
    try:
        response = session.get(url, timeout=TIMEOUT, stream=True)
    except requests.RequestException as exc:
        raise MirrorError(
            f"no se pudo descargar {url} ({exc.__class__.__name__}).",
            hint="Revise la dirección y la conexión.",
        ) from exc
    if response.status_code != 200:
        raise MirrorError(
            f"{url} respondió {response.status_code}.",
            hint="Revise la dirección: debe ser la carpeta que contiene latest.json.",
        )
    return response


def fetch_latest_corte(base_url: str, target: Path) -> tuple[Latest, Path]:
    """Copy the current corte of the publication at ``base_url`` into ``target``."""
    base = base_url.rstrip("/") + "/"
    with requests.Session() as session:
        latest = parse_latest(_get(session, base + LATEST).content, where=base + LATEST)
        corte_url = f"{base}{CORTES}/{latest.corte}/"
        folder = target / CORTES / latest.corte
        folder.mkdir(parents=True)
        for name in (MANIFEST_NAME, f"{MANIFEST_NAME}.sig"):
            (folder / name).write_bytes(_get(session, corte_url + name).content)
        try:
            manifest = parse_manifest((folder / MANIFEST_NAME).read_bytes(), where=corte_url)
        except ManifestError:
            return latest, folder  # the local check reports it
        for entry in manifest.files:
            path = folder / entry.path
            path.parent.mkdir(parents=True, exist_ok=True)
            with _get(session, corte_url + entry.path) as response, path.open("wb") as out:
                for chunk in response.iter_content(_CHUNK):
                    out.write(chunk)
    return latest, folder


def previous_manifests(
    base_url: str, manifest: Manifest, *, limit: int
) -> Iterator[tuple[str, bytes]]:
    """Walk the chain back from ``manifest``: (corte folder, manifest bytes), newest first."""
    base = base_url.rstrip("/") + "/"
    with requests.Session() as session:
        current = manifest
        for _ in range(limit):
            if current.anterior_corte is None:
                return
            url = f"{base}{CORTES}/{current.anterior_corte}/{MANIFEST_NAME}"
            data = _get(session, url).content
            yield current.anterior_corte, data
            try:
                current = parse_manifest(data, where=url)
            except ManifestError:
                return
