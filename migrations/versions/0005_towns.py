"""The gazetteer's places become towns: one word for each thing.

A *place* (``/places/<id>``) is a location of the directory; an entry of the offline
gazetteer is a *town*. Tables, columns, constraints, indexes, the sequence and the search-key
function are renamed; no row changes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = (("places", "towns"), ("place_names", "town_names"))
COLUMNS = (("town_names", "place_id", "town_id"),)
CONSTRAINTS = (
    ("towns", "pk_places", "pk_towns"),
    ("towns", "uq_places_source", "uq_towns_source"),
    ("towns", "ck_places_country_code_format", "ck_towns_country_code_format"),
    ("towns", "ck_places_population_not_negative", "ck_towns_population_not_negative"),
    ("towns", "ck_places_place_source", "ck_towns_town_source"),
    ("towns", "ck_places_place_kind", "ck_towns_town_kind"),
    ("town_names", "pk_place_names", "pk_town_names"),
    ("town_names", "fk_place_names_place_id_places", "fk_town_names_town_id_towns"),
)
# Constraints that own an index (primary keys, unique) rename it with them.
INDEXES = (
    ("idx_places_point", "idx_towns_point"),
    ("ix_place_names_place_id", "ix_town_names_town_id"),
    ("ix_place_names_key_trgm", "ix_town_names_key_trgm"),
)
SEQUENCES = (("places_id_seq", "towns_id_seq"),)
FUNCTIONS = (("place_search_key(text)", "town_search_key"),)


def _rename(forward: bool) -> None:
    def pick(old: str, new: str) -> tuple[str, str]:
        return (old, new) if forward else (new, old)

    tables = TABLES if forward else tuple(reversed(TABLES))
    for old, new in tables:
        source, target = pick(old, new)
        op.execute(f'ALTER TABLE "{source}" RENAME TO "{target}"')
    for old_table, old, new in COLUMNS:
        table = old_table if forward else {new: old for old, new in TABLES}[old_table]
        source, target = pick(old, new)
        op.execute(f'ALTER TABLE "{table}" RENAME COLUMN "{source}" TO "{target}"')
    for new_table, old, new in CONSTRAINTS:
        table = new_table if forward else {new: old for old, new in TABLES}[new_table]
        source, target = pick(old, new)
        op.execute(f'ALTER TABLE "{table}" RENAME CONSTRAINT "{source}" TO "{target}"')
    for old, new in INDEXES:
        source, target = pick(old, new)
        op.execute(f'ALTER INDEX "{source}" RENAME TO "{target}"')
    for old, new in SEQUENCES:
        source, target = pick(old, new)
        op.execute(f'ALTER SEQUENCE "{source}" RENAME TO "{target}"')
    for signature, new_name in FUNCTIONS:
        old_name = signature.split("(")[0]
        arguments = signature[len(old_name) :]
        if forward:
            op.execute(f"ALTER FUNCTION public.{signature} RENAME TO {new_name}")
        else:
            op.execute(f"ALTER FUNCTION public.{new_name}{arguments} RENAME TO {old_name}")


def upgrade() -> None:
    _rename(forward=True)


def downgrade() -> None:
    _rename(forward=False)
