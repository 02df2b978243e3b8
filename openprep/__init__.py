"""openprep: an open-source PREP (Programa de Resultados Electorales Preliminares)."""

__version__ = "0.1.0"
