"""Pushing cortes to difusores: real OpenSSH sshd (chrooted SFTP users) and pyftpdlib.

After every fault the mirror must hold a whole corte (``openprep verify`` accepts it) and
the 3-strike rule must fire exactly on the third consecutive miss.
"""

from __future__ import annotations

import hashlib
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from servidores_difusion import (
    CONTRASENA,
    ServidorFTP,
    ServidorSSH,
    certificado_tls,
    sin_servidor,
)

from openprep.difusion.models import Difusor, Entrega, Incidente, Resultado, TipoIncidente
from openprep.difusion.registro import registrar_difusor, rehabilitar
from openprep.difusion.servicios import difundir
from openprep.publish import signing
from openprep.publish.folder import CORTES, build_corte, publish_image, read_latest
from openprep.publish.verify import check_publication

PRINCIPAL = "prep@instituto"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def sshd():
    servidor = ServidorSSH()
    for n in range(1, 6):
        servidor.cuenta(n)
    servidor.iniciar()
    yield servidor
    servidor.detener()


@pytest.fixture
def ftpd(tmp_path):
    servidor = ServidorFTP(tmp_path / "ftp").iniciar()
    yield servidor
    servidor.detener()


@pytest.fixture(autouse=True)
def ajustes(settings, tmp_path):
    settings.OPENPREP_LLAVE_SECRETOS = tmp_path / "secretos.fernet"
    settings.OPENPREP_DIFUSION_TIMEOUT = 5
    settings.MEDIA_ROOT = tmp_path / "media"


class Publicacion:
    """A publication folder with real signed cortes, as the corte builder leaves it."""

    def __init__(self, root: Path):
        self.root = root / "publicacion"
        self.key = signing.generate_key(root / "llave", principal=PRINCIPAL)
        self.numero = 0

    def imagen(self, contenido: bytes, *, hace_minutos: int = 60) -> str:
        """An acta image published ``hace_minutos`` ago (file time, as the night goes)."""
        sha = hashlib.sha256(contenido).hexdigest()
        fuente = self.root.parent / "fuente.png"
        fuente.write_bytes(contenido)
        publish_image(self.root, sha256=sha, source=fuente)
        antes = time.time() - hace_minutos * 60
        os.utime(self.root / "imagenes" / sha, (antes, antes))
        return sha

    def corte(self, *, datos: str, paginas: int = 20, grande: int = 0):
        self.numero += 1

        def write(folder: Path, numero: int) -> None:
            (folder / "datos").mkdir()
            (folder / "datos" / "base.csv").write_text(datos)
            (folder / "casillas").mkdir()
            for i in range(paginas):  # pages that do not change between cortes
                (folder / "casillas" / f"{i:04d}.html").write_text(f"<p>casilla {i}</p>" * 50)
            (folder / "index.html").write_text(f"<h1>Corte {numero}</h1>")
            if grande:
                (folder / "datos" / "grande.bin").write_bytes(b"\x01" * grande)

        return build_corte(
            self.root,
            corte_id=f"{self.numero:04d}",
            fecha_hora=f"2027/06/06 21:{self.numero:02d} (UTC-5)",
            key=self.key,
            principal=PRINCIPAL,
            write_files=write,
        )


@pytest.fixture
def pub(tmp_path):
    return Publicacion(tmp_path)


def plazo(segundos: float = 60):
    return timezone.now() + timedelta(seconds=segundos)


def sftp(sshd, n, *, nombre=None, **cambios):
    cuenta = sshd.cuentas[n - 1]
    datos = dict(
        nombre=nombre or f"Difusor SFTP {n}",
        protocolo="sftp",
        host="127.0.0.1",
        puerto=sshd.puerto,
        usuario=cuenta.usuario,
        clave_ssh=cuenta.clave_privada.read_text(),
        enlace=f"https://difusor{n}.example.mx/prep/",
    )
    datos.update(cambios)
    return registrar_difusor(**datos)[0], cuenta.carpeta


def ftp(ftpd, usuario="medio", **cambios):
    carpeta = ftpd.cuenta(usuario)
    datos = dict(
        nombre=f"Difusor FTP {usuario}",
        protocolo="ftp",
        host="127.0.0.1",
        puerto=ftpd.puerto,
        usuario=usuario,
        contrasena=CONTRASENA,
    )
    datos.update(cambios)
    return registrar_difusor(**datos)[0], carpeta


def whole(mirror: Path, publicacion: Path, corte: str | None, *, limpio: bool = False) -> None:
    """The mirror shows ``corte`` (or nothing yet) and every corte it holds verifies;
    ``limpio``: no partial corte is left beside them (after a delivery that succeeded)."""
    latest = read_latest(mirror)
    if corte is None:
        assert latest is None
        return
    assert latest == read_latest(publicacion) or latest.corte == corte
    assert latest.corte == corte
    checks = check_publication(mirror)
    assert checks and all(c.ok for c in checks), checks
    if limpio:
        assert not [p for p in (mirror / CORTES).iterdir() if p.name.startswith(".parcial")]


def test_a_first_push_by_sftp_leaves_a_whole_verifiable_mirror(sshd, pub):
    sha = pub.imagen(b"\x89PNG acta 1")
    latest = pub.corte(datos="uno")
    difusor, mirror = sftp(sshd, 1)
    [entrega] = difundir(publicacion=pub.root, latest=latest, plazo=plazo())
    assert entrega.resultado == Resultado.ENTREGADA, entrega.error
    whole(mirror, pub.root, latest.corte, limpio=True)
    assert (mirror / "imagenes" / sha).read_bytes() == b"\x89PNG acta 1"
    assert (mirror / "index.html").read_bytes() == (pub.root / "index.html").read_bytes()
    assert entrega.bytes == sum(
        p.stat().st_size for p in (pub.root / CORTES / latest.corte).rglob("*") if p.is_file()
    ) + (pub.root / "index.html").stat().st_size + len(b"\x89PNG acta 1") + len(latest.to_bytes())
    difusor.refresh_from_db()
    assert difusor.ultimo_corte == latest.corte and difusor.fallas_consecutivas == 0
    # The server's key was pinned on first use, and that is on record.
    assert difusor.llave_host == sshd.llave_host()
    assert Incidente.objects.filter(difusor=difusor, tipo=TipoIncidente.LLAVE_HOST).exists()
    # Pushing again sends nothing.
    assert difundir(publicacion=pub.root, latest=latest, plazo=plazo()) == []


def test_the_next_corte_sends_only_what_changed_and_links_the_rest(sshd, pub):
    pub.imagen(b"acta 1")
    _, mirror = sftp(sshd, 2)
    difundir(publicacion=pub.root, latest=pub.corte(datos="uno", paginas=40), plazo=plazo())
    pub.imagen(b"acta 2", hace_minutos=0)  # published after the first delivery
    second = pub.corte(datos="dos", paginas=40)
    [entrega] = difundir(publicacion=pub.root, latest=second, plazo=plazo())
    assert entrega.resultado == Resultado.ENTREGADA, entrega.error
    whole(mirror, pub.root, second.corte, limpio=True)
    # sent: the new image, base.csv, index.html, allowed_signers? no (same bytes, linked),
    # manifest + signature, latest.json; the 40 unchanged pages are hard links on the server
    assert entrega.omitidos >= 40 + 1  # pages (+ allowed_signers) linked, the old image kept
    assert entrega.archivos <= 6
    page = mirror / CORTES / second.corte / "casillas" / "0001.html"
    assert page.stat().st_nlink == 2


def test_ftp_and_ftps_deliver_whole_cortes_and_skip_images_already_there(tmp_path, pub, settings):
    pub.imagen(b"acta 1")
    first = pub.corte(datos="uno")
    pem = certificado_tls(tmp_path)
    settings.OPENPREP_DIFUSION_CA = str(pem)
    plano = ServidorFTP(tmp_path / "ftp").iniciar()
    seguro = ServidorFTP(tmp_path / "ftps", tls_cert=pem).iniciar()
    try:
        _, mirror_ftp = ftp(plano, "medio")
        _, mirror_ftps = ftp(seguro, "universidad", protocolo="ftps", nombre="Universidad")
        entregas = difundir(publicacion=pub.root, latest=first, plazo=plazo())
        assert [e.resultado for e in entregas] == [Resultado.ENTREGADA] * 2, entregas
        pub.imagen(b"acta 2", hace_minutos=0)
        second = pub.corte(datos="dos")
        entregas = difundir(publicacion=pub.root, latest=second, plazo=plazo())
        assert [e.resultado for e in entregas] == [Resultado.ENTREGADA] * 2
        for mirror in (mirror_ftp, mirror_ftps):
            whole(mirror, pub.root, second.corte, limpio=True)
        assert all(e.omitidos == 1 for e in entregas)  # the first image was not sent again
    finally:
        plano.detener()
        seguro.detener()


def test_a_dead_host_and_wrong_credentials_are_misses_with_a_spanish_reason(sshd, pub):
    latest = pub.corte(datos="uno")
    registrar_difusor(
        nombre="Apagado",
        protocolo="sftp",
        host="127.0.0.1",
        puerto=sin_servidor(),
        usuario="x",
        contrasena="y",
    )
    sftp(sshd, 3, clave_ssh="", contrasena="equivocada")
    entregas = difundir(publicacion=pub.root, latest=latest, plazo=plazo(3), esperas=(0.2,))
    by_name = {e.difusor.nombre: e for e in entregas}
    assert by_name["Apagado"].resultado == Resultado.FALLIDA
    assert "no hay conexión" in by_name["Apagado"].error
    assert by_name["Apagado"].intentos > 1  # retried within the period
    assert by_name["Difusor SFTP 3"].resultado == Resultado.FALLIDA
    assert "rechazó las credenciales" in by_name["Difusor SFTP 3"].error
    whole(sshd.cuentas[2].carpeta, pub.root, None)


def test_a_slow_host_that_cannot_finish_in_the_period_keeps_its_previous_corte(tmp_path, pub):
    lento = ServidorFTP(tmp_path / "ftp", bytes_por_segundo=100_000).iniciar()
    try:
        _, mirror = ftp(lento)
        first = pub.corte(datos="uno")
        [entrega] = difundir(publicacion=pub.root, latest=first, plazo=plazo(30))
        assert entrega.resultado == Resultado.ENTREGADA, entrega.error
        second = pub.corte(datos="dos", grande=1_000_000)  # 10 s at this speed
        [entrega] = difundir(publicacion=pub.root, latest=second, plazo=plazo(3))
        assert entrega.resultado == Resultado.FALLIDA
        # It stalls (this server reads in bursts) or runs out of period, whichever first.
        assert "se agotó el plazo" in entrega.error or "dejó de responder" in entrega.error
        assert (entrega.fin - entrega.inicio).total_seconds() < 3 + 5 + 1  # period + timeout
        whole(mirror, pub.root, first.corte)
    finally:
        lento.detener()


def test_a_full_disk_fails_the_delivery_and_the_mirror_keeps_its_previous_corte(sshd, pub):
    cuenta = sshd.cuentas[3]
    sshd.disco_lleno(cuenta, bytes_libres=300_000)
    _, mirror = sftp(sshd, 4)
    first = pub.corte(datos="uno")
    [entrega] = difundir(publicacion=pub.root, latest=first, plazo=plazo())
    assert entrega.resultado == Resultado.ENTREGADA, entrega.error
    second = pub.corte(datos="dos", grande=1_000_000)
    [entrega] = difundir(publicacion=pub.root, latest=second, plazo=plazo(2), esperas=(0.2,))
    assert entrega.resultado == Resultado.FALLIDA
    whole(mirror, pub.root, first.corte)


def test_a_connection_dropped_mid_transfer_is_retried_and_resumed(sshd, pub):
    _, mirror = sftp(sshd, 5)
    difundir(publicacion=pub.root, latest=pub.corte(datos="uno", paginas=5), plazo=plazo())
    second = pub.corte(datos="dos", paginas=60)  # every page differs from the first corte's
    subidos = []
    first_corte = read_latest(mirror).corte

    def cortar(ruta: str) -> None:
        subidos.append(ruta)
        if len(subidos) == 30:
            whole(mirror, pub.root, first_corte)  # mid-push, the mirror is still whole
            sshd.cortar_sesiones(sshd.cuentas[4].usuario)

    [entrega] = difundir(
        publicacion=pub.root, latest=second, plazo=plazo(), esperas=(0.2,), avance=cortar
    )
    assert entrega.resultado == Resultado.ENTREGADA, entrega.error
    assert entrega.intentos == 2 and entrega.error  # the first attempt's error is kept
    assert entrega.omitidos >= 25  # the second attempt kept what had arrived whole
    whole(mirror, pub.root, second.corte, limpio=True)


def test_the_third_consecutive_miss_suspends_exactly_then(pub, sshd):
    muerto, _ = registrar_difusor(
        nombre="Intermitente",
        protocolo="ftp",
        host="127.0.0.1",
        puerto=sin_servidor(),
        usuario="u",
        contrasena="p",
    )

    def corte_y_push(n):
        latest = pub.corte(datos=str(n))
        return difundir(publicacion=pub.root, latest=latest, plazo=plazo(1), esperas=(5,))

    for esperado in (1, 2):
        corte_y_push(esperado)
        muerto.refresh_from_db()
        assert (muerto.fallas_consecutivas, muerto.habilitado) == (esperado, True)
    # The same corte pushed again is still one miss.
    difundir(publicacion=pub.root, latest=read_latest(pub.root), plazo=plazo(1), esperas=(5,))
    muerto.refresh_from_db()
    assert muerto.fallas_consecutivas == 2
    corte_y_push(3)
    muerto.refresh_from_db()
    assert (muerto.fallas_consecutivas, muerto.habilitado) == (3, False)
    [incidente] = Incidente.objects.filter(difusor=muerto, tipo=TipoIncidente.SUSPENDIDO)
    assert "0001, 0002, 0003" in incidente.descripcion
    # Suspended: the next corte is not even attempted.
    assert corte_y_push(4) == []
    assert not Entrega.objects.filter(difusor=muerto, corte="0004").exists()
    # An administrator re-enables it; that is on record and the count starts again.
    rehabilitar(muerto, usuario=None, motivo="El difusor cambió de servidor.")
    muerto.refresh_from_db()
    assert (muerto.habilitado, muerto.fallas_consecutivas) == (True, 0)
    assert Incidente.objects.filter(difusor=muerto, tipo=TipoIncidente.REHABILITADO).exists()


def test_a_delivered_corte_clears_the_strikes(pub, tmp_path, ftpd):
    difusor, _ = ftp(ftpd)
    Difusor.objects.filter(pk=difusor.pk).update(fallas_consecutivas=2)
    [entrega] = difundir(publicacion=pub.root, latest=pub.corte(datos="x"), plazo=plazo())
    assert entrega.resultado == Resultado.ENTREGADA
    difusor.refresh_from_db()
    assert difusor.fallas_consecutivas == 0 and difusor.habilitado


def test_a_changed_server_key_is_refused(sshd, pub):
    otra = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBi2VYsq4bP5h7mPNQg8r9c0cR8pJ7w3pAcJY1G5gOa1"
    sftp(sshd, 1, nombre="Suplantado", llave_host=otra)
    [entrega] = difundir(
        publicacion=pub.root, latest=pub.corte(datos="x"), plazo=plazo(1), esperas=(5,)
    )
    assert entrega.resultado == Resultado.FALLIDA
    assert "no es la registrada" in entrega.error


def test_credentials_are_not_stored_in_clear(sshd):
    difusor, _ = sftp(sshd, 1, contrasena="s3creta-muy-larga")
    stored = Difusor.objects.filter(pk=difusor.pk).values_list(
        "contrasena_cifrada", "clave_ssh_cifrada"
    )[0]
    assert "s3creta" not in stored[0] and "PRIVATE KEY" not in stored[1]
    assert stored[0] and stored[1]


def test_a_lost_secrets_key_fails_that_difusor_only_with_what_to_do(pub, ftpd, settings, tmp_path):
    ftp(ftpd, "medio")
    settings.OPENPREP_LLAVE_SECRETOS = tmp_path / "otra-llave"  # the key file was replaced
    ftp(ftpd, "radio")  # registered again under the new key
    entregas = difundir(publicacion=pub.root, latest=pub.corte(datos="x"), plazo=plazo(1))
    by_name = {e.difusor.nombre: e for e in entregas}
    assert by_name["Difusor FTP radio"].resultado == Resultado.ENTREGADA
    assert by_name["Difusor FTP medio"].resultado == Resultado.FALLIDA
    assert "no se puede descifrar" in by_name["Difusor FTP medio"].error
    assert "capture de nuevo la credencial" in by_name["Difusor FTP medio"].error
