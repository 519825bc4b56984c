"""What a consular officer needs to refer a national (issue 15).

* ``locations.protection_phone``: a consular office's 24/7 protection and
  consular-notification line (for the national, and for the authorities that must notify
  the consulate of a detained national, Vienna Convention art. 36). Empty where not known.
* ``locations.admission_rules`` (+ ``admission_rules_language``): who the site admits
  ("families only", "no unaccompanied minors"), a short text per language, like ``notes``.
* ``locations.what_to_bring`` (+ ``what_to_bring_language``): what a person should bring
  ("an identity document if you have one"), per language.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TEXTS = ("admission_rules", "what_to_bring")


def upgrade() -> None:
    op.add_column("locations", sa.Column("protection_phone", sa.Text(), nullable=True))
    for name in TEXTS:
        op.add_column(
            "locations",
            sa.Column(
                name,
                postgresql.JSONB(astext_type=sa.Text()),
                server_default=sa.text("'{}'::jsonb"),
                nullable=False,
            ),
        )
        op.add_column("locations", sa.Column(f"{name}_language", sa.String(8), nullable=True))
        op.create_check_constraint(
            f"{name}_language_present",
            "locations",
            f"{name}_language IS NULL OR {name} ? {name}_language",
        )


def downgrade() -> None:
    for name in reversed(TEXTS):
        op.drop_constraint(
            op.f(f"ck_locations_{name}_language_present"), "locations", type_="check"
        )
        op.drop_column("locations", f"{name}_language")
        op.drop_column("locations", name)
    op.drop_column("locations", "protection_phone")
