"""Consular districts per nationality; the extra nationalities of joint consular offices.

A joint office (TRICAMEX-style) serves several nationalities, and for each one it shares the
host country with a different set of offices, so its district depends on the nationality:
``consular_districts`` gains ``nationality_code`` and keeps at most one active district per
(location, nationality). ``organization_nationalities`` lists what an office serves besides
its sending country.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organization_nationalities",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["country_code"],
            ["countries.code"],
            name=op.f("fk_organization_nationalities_country_code_countries"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_organization_nationalities_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint(
            "organization_id", "country_code", name=op.f("pk_organization_nationalities")
        ),
    )
    # Existing districts (if any) belong to their office's own nationality.
    op.add_column(
        "consular_districts", sa.Column("nationality_code", sa.String(length=2), nullable=True)
    )
    op.execute(
        """
        UPDATE consular_districts AS d SET nationality_code = o.sending_country_code
        FROM locations AS l JOIN organizations AS o ON o.id = l.organization_id
        WHERE l.id = d.location_id
        """
    )
    op.alter_column("consular_districts", "nationality_code", nullable=False)
    op.drop_constraint(
        op.f("uq_consular_districts_location_id"), "consular_districts", type_="unique"
    )
    op.create_index(
        "uq_consular_districts_active",
        "consular_districts",
        ["location_id", "nationality_code"],
        unique=True,
        postgresql_where=sa.text("archived_at IS NULL"),
    )
    op.create_foreign_key(
        op.f("fk_consular_districts_nationality_code_countries"),
        "consular_districts",
        "countries",
        ["nationality_code"],
        ["code"],
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_consular_districts_nationality_code_countries"),
        "consular_districts",
        type_="foreignkey",
    )
    op.drop_index(
        "uq_consular_districts_active",
        table_name="consular_districts",
        postgresql_where=sa.text("archived_at IS NULL"),
    )
    # The old schema held one district per (location, origin): keep the lowest id of each.
    op.execute(
        """
        DELETE FROM consular_districts AS d USING consular_districts AS keep
        WHERE keep.location_id = d.location_id AND keep.origin = d.origin AND keep.id < d.id
        """
    )
    op.create_unique_constraint(
        op.f("uq_consular_districts_location_id"), "consular_districts", ["location_id", "origin"]
    )
    op.drop_column("consular_districts", "nationality_code")
    op.drop_table("organization_nationalities")
