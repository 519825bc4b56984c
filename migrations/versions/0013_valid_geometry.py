"""Valid stored polygons (issue 15): the country outlines, consular districts and barriers
already loaded are made valid once; the loaders keep every new one valid.

``ST_Multi(ST_CollectionExtract(ST_MakeValid(g), 3))`` (``geo.polygons.valid_multipolygon``)
on each row that ``ST_IsValid`` refuses: its vertices are kept, a ring that crosses itself is
split where it crosses, and lines or points left over are dropped. A row that would have no
area left is not touched (there is none in the data we know of; ``flask districts compute``
replaces computed districts anyway). Rows are repaired, not edited: their ``version`` and
history are left as they are.

Nothing derived from the outlines is stored: the simplified outlines of the map are built
per request from ``countries.boundary`` (``directory.places.countries``), so repairing the
boundaries is rebuilding them. ``area_cells`` counts points and does not depend on them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# (table, geometry column) of every stored polygon.
POLYGON_COLUMNS = (
    ("countries", "boundary"),
    ("consular_districts", "area"),
    ("barriers", "area"),
)

REPAIR = """
UPDATE {table} AS t
SET {column} = r.valid
FROM (
    SELECT id_or_code, ST_Multi(ST_CollectionExtract(ST_MakeValid(g), 3)) AS valid
    FROM (SELECT {key} AS id_or_code, {column} AS g FROM {table}
          WHERE NOT ST_IsValid({column})) AS invalid
) AS r
WHERE t.{key} = r.id_or_code AND NOT ST_IsEmpty(r.valid)
"""

KEYS = {"countries": "code", "consular_districts": "id", "barriers": "id"}


def upgrade() -> None:
    # Making a continent's outlines valid takes longer than a request may.
    op.execute("SET LOCAL statement_timeout = 0")
    for table, column in POLYGON_COLUMNS:
        op.execute(REPAIR.format(table=table, column=column, key=KEYS[table]))


def downgrade() -> None:
    """Nothing to undo: the invalid polygons are not kept, and a valid one is the same area
    to every reader. Putting back rings that cross themselves would only break the spatial
    predicates again, so the repaired rows stay as they are."""
