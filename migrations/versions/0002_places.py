"""The offline gazetteer: places, their search keys, and the text functions that build them.

Extensions (all in postgresql-contrib): pg_trgm for trigram similarity and its GIN index,
unaccent to fold accents, fuzzystrmatch for levenshtein(). ``unaccent()`` is only STABLE
(its dictionary could change), so ``immutable_unaccent()`` wraps it with the dictionary
named explicitly; ``place_search_key()`` builds the key a name is searched by (lower case,
no accents, apostrophes dropped, every other run of non-alphanumerics one space). The loader
stores that key for each name and the search applies the same function to the query.

The downgrade drops what this migration made but keeps the extensions, as 0001 keeps
PostGIS: another schema on the same server may use them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

EXTENSIONS = ("pg_trgm", "unaccent", "fuzzystrmatch")

IMMUTABLE_UNACCENT = """
CREATE OR REPLACE FUNCTION public.immutable_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$
"""

PLACE_SEARCH_KEY = """
CREATE OR REPLACE FUNCTION public.place_search_key(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$
    SELECT btrim(regexp_replace(
        regexp_replace(lower(public.immutable_unaccent($1)), '[''`’ʼ]', '', 'g'),
        '[^a-z0-9]+', ' ', 'g'
    ))
$$
"""


def upgrade() -> None:
    # The local cluster's user is a superuser; on a managed database these three are
    # "trusted" extensions (PostgreSQL 13+), which a database owner may create.
    for extension in EXTENSIONS:
        op.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
    op.execute(IMMUTABLE_UNACCENT)
    op.execute(PLACE_SEARCH_KEY)

    op.create_geospatial_table(
        "places",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "geonames",
                "places.csv",
                "directory",
                name="place_source",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("source_id", sa.String(length=160), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("alt_names", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("admin_area", sa.Text(), nullable=True),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column(
            "point",
            Geography(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeogFromText",
                name="geography",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "city",
                "town",
                "border_crossing",
                name="place_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "country_code ~ '^[A-Z]{2}$'", name=op.f("ck_places_country_code_format")
        ),
        sa.CheckConstraint(
            "population IS NULL OR population >= 0",
            name=op.f("ck_places_population_not_negative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_places")),
        sa.UniqueConstraint("source", "source_id", name=op.f("uq_places_source")),
    )
    op.create_geospatial_index(
        "idx_places_point",
        "places",
        ["point"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "place_names",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["place_id"],
            ["places.id"],
            name=op.f("fk_place_names_place_id_places"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", "place_id", name=op.f("pk_place_names")),
    )
    op.create_index(op.f("ix_place_names_place_id"), "place_names", ["place_id"], unique=False)
    op.create_index(
        "ix_place_names_key_trgm",
        "place_names",
        ["key"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"key": "gin_trgm_ops"},
        postgresql_with={"fastupdate": "off"},
    )


def downgrade() -> None:
    op.drop_index("ix_place_names_key_trgm", table_name="place_names", postgresql_using="gin")
    op.drop_index(op.f("ix_place_names_place_id"), table_name="place_names")
    op.drop_table("place_names")
    op.drop_geospatial_index(
        "idx_places_point", table_name="places", postgresql_using="gist", column_name="point"
    )
    op.drop_geospatial_table("places")
    op.execute("DROP FUNCTION IF EXISTS public.place_search_key(text)")
    op.execute("DROP FUNCTION IF EXISTS public.immutable_unaccent(text)")
