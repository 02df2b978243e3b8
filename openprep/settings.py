"""Django settings: SQLite by default, PostgreSQL (or any engine) through DATABASE_URL."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("OPENPREP_DATA_DIR", Path.cwd() / "var"))

SECRET_KEY = os.environ.get("OPENPREP_SECRET_KEY", "solo-para-desarrollo-cambie-esta-clave")
DEBUG = os.environ.get("OPENPREP_DEBUG", "") == "1"
ALLOWED_HOSTS = os.environ.get("OPENPREP_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",")


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "") == "1"


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "openprep.catalog",
    "openprep.intake",
    "openprep.capture",
    "openprep.publish",
    "openprep.audit",
    "openprep.coordinacion",
    "openprep.simulate",
    "openprep.difusion",
    # The operator console: sessions, the role-gated admin (replaces django.contrib.admin),
    # throttled logins, operators and CATDs.
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "openprep.accounts.adminconfig.OpenprepAdminConfig",
    "axes",
    "openprep.accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (the admin's, the screens' scripts) straight from the app server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Django's, saving the session only when its idle expiry is a minute behind.
    "openprep.accounts.sessions.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Deny by default: an anonymous request reaches only @public views. Each view's own
    # policy (openprep.accounts.access) is still what grants access by role.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "openprep.web.UserErrorMiddleware",
]

ROOT_URLCONF = "openprep.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

# Authentication: Django's hashers and sessions; django-axes throttles failed logins.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "openprep.accounts.backends.OperadorBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "entrar"
LOGIN_REDIRECT_URL = "inicio"
LOGOUT_REDIRECT_URL = "entrar"

# Sessions end after OPENPREP_SESSION_IDLE_MINUTES without a request and when the browser
# closes. Requests move the expiry forward, written at most once a minute (not on every
# request: openprep.accounts.sessions), so an idle session ends up to a minute early.
SESSION_ENGINE = "openprep.accounts.sessions"
SESSION_COOKIE_AGE = _env_int("OPENPREP_SESSION_IDLE_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Production behind HTTPS: OPENPREP_SECURE_COOKIES=1 sends the session and CSRF cookies
# over HTTPS only; OPENPREP_BEHIND_HTTPS_PROXY=1 trusts the proxy's X-Forwarded-Proto.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _env_flag("OPENPREP_SECURE_COOKIES")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
if _env_flag("OPENPREP_BEHIND_HTTPS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("OPENPREP_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]
X_FRAME_OPTIONS = "DENY"

# Failed logins: a username is locked from one address after N failures (not the whole
# address: a CATD's operators share one behind NAT, and a typo must not lock them all out,
# nor can someone elsewhere lock an operator out by guessing at their username).
AXES_FAILURE_LIMIT = _env_int("OPENPREP_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=_env_int("OPENPREP_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/bloqueado.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_COOLOFF_MESSAGE = "Cuenta bloqueada: demasiados intentos fallidos. Espere e intente de nuevo."
AXES_PERMALOCK_MESSAGE = (
    "Cuenta bloqueada: demasiados intentos fallidos. Pida a un administrador que la desbloquee."
)
# Axes reads the client address from REMOTE_ADDR. Behind a reverse proxy every login then
# shares the proxy's address (the lock becomes per username); installing django-ipware
# and setting AXES_IPWARE_PROXY_COUNT makes it read X-Forwarded-For instead.

if "DATABASE_URL" not in os.environ:
    DATA_DIR.mkdir(parents=True, exist_ok=True)

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{DATA_DIR / 'openprep.sqlite3'}",
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several server processes share one SQLite file on a drill machine: write-ahead log
    # (readers never block the writer), transactions that take the write lock when they
    # begin (no deadlock on upgrade), and a wait instead of "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: it pays off for long analytical queries, and here it only added
    # time (≈ 1.3 s, a fifth, to each national coordinator dashboard; benchmarks/README.md).
    _opciones = DATABASES["default"].setdefault("OPTIONS", {})
    _opciones["options"] = f"{_opciones.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
MEDIA_ROOT = DATA_DIR / "media"
STATIC_URL = "static/"
# Where `openprep collectstatic` gathers files for a front web server, if one is used.
STATIC_ROOT = os.environ.get("OPENPREP_STATIC_ROOT") or None
# WhiteNoise finds the apps' static files itself: no collectstatic step to forget.
WHITENOISE_USE_FINDERS = True

# Publication: where cortes are built, the key that signs them and the identity
# (principal) under which difusores verify them with ssh-keygen -Y verify.
OPENPREP_PUBLICACION = Path(os.environ.get("OPENPREP_PUBLICACION", DATA_DIR / "publicacion"))
OPENPREP_LLAVE_CORTE = Path(
    os.environ.get("OPENPREP_LLAVE_CORTE", DATA_DIR / "llaves" / "corte_ed25519")
)
OPENPREP_FIRMANTE = os.environ.get("OPENPREP_FIRMANTE", "prep@openprep")

# Difusores: their passwords and SSH keys are stored encrypted with the Fernet key in this
# file (created on first use, mode 600); without the file the database alone reveals none.
OPENPREP_LLAVE_SECRETOS = Path(
    os.environ.get("OPENPREP_LLAVE_SECRETOS", DATA_DIR / "llaves" / "secretos.fernet")
)
# Seconds a difusor's server may take to answer before the attempt counts as failed.
OPENPREP_DIFUSION_TIMEOUT = _env_int("OPENPREP_DIFUSION_TIMEOUT", 30)
# FTPS: the certificate authorities trusted for difusores' servers (a PEM file); empty
# means the system's.
OPENPREP_DIFUSION_CA = os.environ.get("OPENPREP_DIFUSION_CA", "")

# Election night limits (each can be set from the environment).
# An acta image larger than this is refused before it is decoded (bytes) …
OPENPREP_IMAGEN_MAX_BYTES = _env_int("OPENPREP_IMAGEN_MAX_BYTES", 15 * 1024 * 1024)
# … and one that would decode to more pixels than this is refused (decompression bombs).
OPENPREP_IMAGEN_MAX_PIXELES = _env_int("OPENPREP_IMAGEN_MAX_PIXELES", 50_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = OPENPREP_IMAGEN_MAX_BYTES + 1024 * 1024
# An acta handed to a capturista or verificador returns to the queue after this long.
OPENPREP_ASIGNACION_MINUTOS = _env_int("OPENPREP_ASIGNACION_MINUTOS", 10)
# A PREP Casilla app's token (POST /api/casilla/v1/sesion/) is valid this long.
OPENPREP_API_TOKEN_HORAS = _env_int("OPENPREP_API_TOKEN_HORAS", 24)

LANGUAGE_CODE = "es-mx"
TIME_ZONE = "America/Mexico_City"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
