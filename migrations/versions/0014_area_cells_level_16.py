"""The map of one city at a million places (issue 14): ``area_cells`` also counts level 16.

A city-sized box (Mexico City, 0.2° across) is drawn on a display grid of level 14, and the
finest level counted ahead was 14: nothing finer to read, so every place in the box (tens of
thousands there) was counted row by row, 171 ms in-process. With level 16 (0.0055°, about
600 m; 480,000 cells at 1M places) the same box reads its inner cells and counts only thin
edge strips: 10 ms. Levels finer than 16 were measured too (18: 890,000 cells) and made
that box slower (more cells to read), so 16 is the last.

The triggers of 0011 are redefined with the new list of levels (the same SQL, built by
0011's module with the list replaced) and level 16 is counted once.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

NEW_LEVEL = 16


def _migration_0011():
    """0011's module: its trigger SQL and its list of levels."""
    path = Path(__file__).with_name("0011_map_area_cells.py")
    spec = importlib.util.spec_from_file_location("map_area_cells_0011", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _triggers(with_new_level: bool) -> list[str]:
    """0011's trigger functions as CREATE OR REPLACE statements, counting its levels and,
    ``with_new_level``, ``NEW_LEVEL`` too."""
    base = _migration_0011()
    levels = (*base.LEVELS, NEW_LEVEL) if with_new_level else tuple(base.LEVELS)
    values = "(VALUES " + ", ".join(f"({level})" for level in levels) + ") AS levels(level)"
    return [
        sql.replace(base._LEVELS_SQL, values).replace(
            "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"
        )
        for sql in (base.LOCATIONS_TRIGGER, base.ORGANIZATIONS_TRIGGER)
    ]


COUNT_LEVEL = f"""
INSERT INTO area_cells (level, x, y, places, lon_sum, lat_sum)
SELECT {NEW_LEVEL},
       floor((ST_X(r.point::geometry) + 180.0::float8) / (360.0::float8 / (1 << {NEW_LEVEL})))::int,
       floor((ST_Y(r.point::geometry) + 90.0::float8) / (360.0::float8 / (1 << {NEW_LEVEL})))::int,
       count(*), sum(ST_X(r.point::geometry)), sum(ST_Y(r.point::geometry))
FROM locations AS r JOIN organizations AS o ON o.id = r.organization_id
     AND r.archived_at IS NULL AND o.archived_at IS NULL
GROUP BY 2, 3
"""


def upgrade() -> None:
    op.execute("SET LOCAL statement_timeout = 0")  # a million places take seconds
    for sql in _triggers(with_new_level=True):
        op.execute(sql)
    op.execute(f"DELETE FROM area_cells WHERE level = {NEW_LEVEL}")
    op.execute(COUNT_LEVEL)


def downgrade() -> None:
    for sql in _triggers(with_new_level=False):
        op.execute(sql)
    op.execute(f"DELETE FROM area_cells WHERE level = {NEW_LEVEL}")
