"""Django settings: SQLite by default, PostgreSQL (or any engine) through DATABASE_URL."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("OPENPREP_DATA_DIR", Path.cwd() / "var"))

SECRET_KEY = os.environ.get("OPENPREP_SECRET_KEY", "solo-para-desarrollo-cambie-esta-clave")
DEBUG = os.environ.get("OPENPREP_DEBUG", "") == "1"
ALLOWED_HOSTS = os.environ.get("OPENPREP_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "openprep.catalog",
    "openprep.intake",
    "openprep.capture",
    "openprep.publish",
    "openprep.audit",
]

if "DATABASE_URL" not in os.environ:
    DATA_DIR.mkdir(parents=True, exist_ok=True)

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{DATA_DIR / 'openprep.sqlite3'}",
        conn_max_age=60,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
MEDIA_ROOT = DATA_DIR / "media"

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
