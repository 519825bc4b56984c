"""Record content per language: the language each free text was written in, and notes on
locations.

* ``organizations.description_language`` and ``networks.description_language``: the
  language the description was written in, shown (marked "written in …") to a reader whose
  language it has not been translated into. Existing rows: the only language present, or
  Spanish (the directory's default language, in which its records are kept) when several
  are; NULL when there is no description;
* ``locations.notes`` (JSONB per language, ``{}`` for existing rows) and
  ``locations.notes_language``;
* a CHECK on each: the recorded original is one of the languages the text is in.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# (table, texts column, language column)
TEXTS = (
    ("organizations", "descriptions", "description_language"),
    ("networks", "descriptions", "description_language"),
    ("locations", "notes", "notes_language"),
)

# Spanish if present, else the only (or the first) language present.
BACKFILL = """
UPDATE {table} SET {language} = CASE
    WHEN {texts} ? 'es' THEN 'es'
    ELSE (SELECT min(key) FROM jsonb_object_keys({texts}) AS key)
END
WHERE {texts} <> '{{}}'::jsonb
"""


def upgrade() -> None:
    op.add_column(
        "locations",
        sa.Column(
            "notes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    for table, texts, language in TEXTS:
        op.add_column(table, sa.Column(language, sa.String(length=8), nullable=True))
        op.execute(BACKFILL.format(table=table, texts=texts, language=language))
        op.create_check_constraint(
            f"{language}_present", table, f"{language} IS NULL OR {texts} ? {language}"
        )


def downgrade() -> None:
    for table, _texts, language in reversed(TEXTS):
        op.drop_constraint(op.f(f"ck_{table}_{language}_present"), table, type_="check")
        op.drop_column(table, language)
    op.drop_column("locations", "notes")
