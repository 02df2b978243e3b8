"""On PostgreSQL, each acta's captured values also as plain text that the corte reads cheaply.

``intake_acta.valores_lectura`` is a stored generated column: the database keeps it equal
to ``valores``, no code writes it. It holds the MD5 of the JSON array of ``valores``' keys
(in jsonb's order), ``:``, then their values as ``->>`` reads them, joined by ``|`` (a JSON
null as ``\\N``). Reading it costs PostgreSQL a copy, where ``->>`` costs a jsonb lookup per
field and acta: half of the database's time in a national corte (benchmarks/README.md).
:func:`openprep.publish.lectura.catalogo` takes it apart, and reads through ``->>`` any acta
whose text it cannot take apart exactly. SQLite has no such column: it reads ``->>``.
"""

from django.db import migrations

FUNCTION = r"""
CREATE FUNCTION openprep_valores_lectura(valores jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
    claves text;
    textos text;
BEGIN
    SELECT md5(coalesce(jsonb_agg(key ORDER BY n)::text, '[]')),
           coalesce(string_agg(coalesce(value, '\N'), '|' ORDER BY n), '')
      INTO claves, textos
      FROM jsonb_each_text(valores) WITH ORDINALITY AS e(key, value, n);
    RETURN claves || ':' || textos;
END
$$
"""
# The keys' aggregation is repeated in publish/lectura._CLAVES_SQL, which must give the
# same text for the MD5 to match (tests/apps/test_lectura_valores.py fails otherwise: every
# acta would be read again through ->>).
# PL/pgSQL, not SQL: a SQL function is planned again in every statement that calls it
# (0.16 ms per acta update, a fifth of PostgreSQL's work per capture); PL/pgSQL keeps its
# plan for the connection (0.05 ms).
COLUMN = (
    "ALTER TABLE intake_acta ADD COLUMN valores_lectura text "
    "GENERATED ALWAYS AS (openprep_valores_lectura(valores)) STORED"
)
DROP = (
    "ALTER TABLE intake_acta DROP COLUMN valores_lectura",
    "DROP FUNCTION openprep_valores_lectura(jsonb)",
)


def crear(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)
        schema_editor.execute(COLUMN)


def quitar(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("intake", "0004_evento_acopio_por_catd")]

    operations = [migrations.RunPython(crear, quitar)]
