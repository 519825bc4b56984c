"""How sure the directory is: the precision of a point, confirmed hours, intake hours, and
the barriers no road crosses.

* ``locations.position_precision`` (``exact``, ``street``, ``city``): existing rows become
  ``city``, the least a page may claim about a point nobody has said is more exact;
* ``locations.hours_confirmed``: false for existing rows (their hours came from the seeds,
  not from the organizations), so none of them is "open now" until confirmed;
* ``locations.intake_hours``: when a shelter takes people in (unknown for existing rows);
* ``barriers``: areas such as the Darién Gap, a multipolygon with a warning per language.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_geospatial_table(
        "barriers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("names", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("notes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "area",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_barriers")),
        sa.UniqueConstraint("code", name=op.f("uq_barriers_code")),
    )
    op.create_geospatial_index(
        "idx_barriers_area", "barriers", ["area"], unique=False, postgresql_using="gist"
    )
    op.add_column(
        "locations",
        sa.Column(
            "position_precision",
            sa.Enum(
                "exact",
                "street",
                "city",
                name="position_precision",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="city",
            nullable=False,
        ),
    )
    op.add_column(
        "locations",
        sa.Column("hours_confirmed", sa.Boolean(), server_default="false", nullable=False),
    )
    op.add_column(
        "locations",
        sa.Column("intake_hours", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("locations", "intake_hours")
    op.drop_column("locations", "hours_confirmed")
    op.drop_column("locations", "position_precision")
    op.drop_geospatial_index(
        "idx_barriers_area", table_name="barriers", postgresql_using="gist", column_name="area"
    )
    op.drop_geospatial_table("barriers")
