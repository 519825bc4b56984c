"""What Alembic compares and how it writes spatial migrations.

Shared by ``migrations/env.py`` and the test that fails when models and migrations drift,
so both see the schema the same way.
"""

from __future__ import annotations

from typing import Any

from geoalchemy2 import alembic_helpers

# Tables that PostGIS itself creates; they belong to the extension, not to us.
POSTGIS_TABLES = frozenset({"spatial_ref_sys", "geography_columns", "geometry_columns"})
POSTGIS_SCHEMAS = frozenset({"tiger", "tiger_data", "topology"})


def include_object(obj: Any, name: str | None, obj_type: str, reflected: bool, compare_to: Any):
    """Leave PostGIS's own tables out, then apply GeoAlchemy2's spatial-index rules."""
    if obj_type == "table" and (name in POSTGIS_TABLES or obj.schema in POSTGIS_SCHEMAS):
        return False
    return alembic_helpers.include_object(obj, name, obj_type, reflected, compare_to)


ALEMBIC_OPTIONS: dict[str, Any] = {
    "compare_type": True,
    "include_object": include_object,
    "render_item": alembic_helpers.render_item,
    "process_revision_directives": alembic_helpers.writer,
}
