"""An index on the places of each organization (issue 14).

``locations.organization_id`` had none: finding an organization's places (the consular
offices serving a nationality, when no district covers the searcher) read every place, a
million of them at scale, or walked the nearest-neighbour index past tens of thousands of
other places.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_locations_organization_id", "locations", ["organization_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_locations_organization_id", table_name="locations")
