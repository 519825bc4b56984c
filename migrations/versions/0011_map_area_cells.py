"""The map area and the corridor at a million places (issue 14): a plain-degree index on the
locations, and the map's clusters counted ahead of time.

* ``ix_locations_point_geometry``: a GiST index on ``point::geometry``. A map box and a
  window along a route are rectangles and distances in plain degrees; the geography index
  compares geocentric boxes, which for a country-wide box sweep far more than the box.
* ``area_cells``: the active places (not archived, of an organization not archived) counted
  per cell of a global grid of ``360 / 2**level`` degrees, for a few levels, with the sums of
  their longitudes and latitudes (so a cluster sits at its places' mean position). Kept
  exact by statement-level triggers on ``locations`` (insert, update, delete, truncate) and
  on ``organizations`` (archive, restore); ``directory.places.map_area.rebuild_area_cells``
  builds it from scratch.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# With 0014's level 16, must match directory.places.map_area.CELL_LEVELS.
LEVELS = (6, 8, 10, 12, 14)
_LEVELS_SQL = "(VALUES " + ", ".join(f"({level})" for level in LEVELS) + ") AS levels(level)"

# The contribution of location rows to every level of the grid, signed: ``{source}`` names
# the rows (``r``) and what decides that they count, ``{sign}`` is +1 or -1 (an expression).
_CONTRIBUTION = f"""
    SELECT levels.level,
           floor((ST_X(r.point::geometry) + 180.0::float8)
                 / (360.0::float8 / (1 << levels.level)))::int AS x,
           floor((ST_Y(r.point::geometry) + 90.0::float8)
                 / (360.0::float8 / (1 << levels.level)))::int AS y,
           {{sign}} AS places,
           {{sign}} * ST_X(r.point::geometry) AS lon,
           {{sign}} * ST_Y(r.point::geometry) AS lat
    FROM {{source}}
    CROSS JOIN {_LEVELS_SQL}
"""

# Active rows only: not archived, of an organization not archived.
_ACTIVE = (
    "{rows} AS r JOIN organizations AS o ON o.id = r.organization_id "
    "AND r.archived_at IS NULL AND o.archived_at IS NULL"
)

# Adds the summed contributions, then removes the cells left empty (a partial index finds
# them). Cells are written in key order, so concurrent writers lock them in one order.
_APPLY = """
    INSERT INTO area_cells AS c (level, x, y, places, lon_sum, lat_sum)
    SELECT level, x, y, sum(places)::int, sum(lon), sum(lat)
    FROM ({parts}) AS contributions
    GROUP BY level, x, y
    HAVING sum(places) <> 0 OR sum(lon) <> 0 OR sum(lat) <> 0
    ORDER BY level, x, y
    ON CONFLICT (level, x, y) DO UPDATE
    SET places = c.places + excluded.places,
        lon_sum = c.lon_sum + excluded.lon_sum,
        lat_sum = c.lat_sum + excluded.lat_sum;
    DELETE FROM area_cells WHERE places <= 0
"""


def _apply(*parts: str) -> str:
    return _APPLY.format(parts=" UNION ALL ".join(parts))


def _active(rows: str, sign: int) -> str:
    return _CONTRIBUTION.format(source=_ACTIVE.format(rows=rows), sign=sign)


LOCATIONS_TRIGGER = f"""
CREATE FUNCTION area_cells_after_locations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_apply(_active("new_rows", 1))};
    ELSIF TG_OP = 'DELETE' THEN
        {_apply(_active("old_rows", -1))};
    ELSIF TG_OP = 'UPDATE' THEN
        {_apply(_active("old_rows", -1), _active("new_rows", 1))};
    ELSE
        DELETE FROM area_cells;
    END IF;
    RETURN NULL;
END $$;
"""

# An organization archived or restored takes its non-archived places out or back.
_ARCHIVED_OR_RESTORED = (
    "locations AS r JOIN new_rows AS n ON n.id = r.organization_id "
    "JOIN old_rows AS p ON p.id = n.id AND r.archived_at IS NULL "
    "AND (p.archived_at IS NULL) <> (n.archived_at IS NULL)"
)
ORGANIZATIONS_TRIGGER = f"""
CREATE FUNCTION area_cells_after_organizations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {
    _apply(
        _CONTRIBUTION.format(
            source=_ARCHIVED_OR_RESTORED,
            sign="(CASE WHEN n.archived_at IS NULL THEN 1 ELSE -1 END)",
        )
    )
};
    RETURN NULL;
END $$;
"""

REBUILD = _apply(_active("locations", 1))


def upgrade() -> None:
    # Indexing and counting a million places takes longer than a request may.
    op.execute("SET LOCAL statement_timeout = 0")
    op.execute(
        "CREATE INDEX ix_locations_point_geometry ON locations USING gist ((point::geometry))"
    )
    op.create_table(
        "area_cells",
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("x", sa.Integer(), nullable=False),
        sa.Column("y", sa.Integer(), nullable=False),
        sa.Column("places", sa.Integer(), nullable=False),
        sa.Column("lon_sum", sa.Float(precision=53), nullable=False),
        sa.Column("lat_sum", sa.Float(precision=53), nullable=False),
        sa.PrimaryKeyConstraint("level", "x", "y", name=op.f("pk_area_cells")),
    )
    op.create_index(
        "ix_area_cells_empty", "area_cells", ["level"], postgresql_where=sa.text("places <= 0")
    )
    op.execute(REBUILD)
    op.execute(LOCATIONS_TRIGGER)
    op.execute(ORGANIZATIONS_TRIGGER)
    for event, tables in (
        ("INSERT", "REFERENCING NEW TABLE AS new_rows"),
        ("UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "REFERENCING OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER area_cells_{event.lower()} AFTER {event} ON locations {tables} "
            "FOR EACH STATEMENT EXECUTE FUNCTION area_cells_after_locations()"
        )
    op.execute(
        "CREATE TRIGGER area_cells_truncate AFTER TRUNCATE ON locations "
        "FOR EACH STATEMENT EXECUTE FUNCTION area_cells_after_locations()"
    )
    op.execute(
        "CREATE TRIGGER area_cells_archive AFTER UPDATE ON organizations "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION area_cells_after_organizations()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER area_cells_archive ON organizations")
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER area_cells_{event} ON locations")
    op.execute("DROP FUNCTION area_cells_after_organizations()")
    op.execute("DROP FUNCTION area_cells_after_locations()")
    op.drop_table("area_cells")
    op.execute("DROP INDEX ix_locations_point_geometry")
