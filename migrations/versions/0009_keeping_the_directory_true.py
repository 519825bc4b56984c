"""Keeping the directory true (issue 13): confirmation requests, change suggestions, import
batches, and provenance on the records.

* ``import_batches``: each file imported (or waiting between its dry run and the apply
  step), with its source, who brought it and its counts;
* ``confirmation_requests``: one row per e-mail with a signed link, so a link works once;
* ``change_suggestions``: corrections from the public and from confirmation links, waiting
  for moderation per country; nothing about the sender but the page's language;
* provenance: ``locations.import_id``; ``organizations.source``, ``external_id`` (the id in
  that source, unique) and ``import_id``; ``contact_persons.source`` and ``import_id``;

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "locations",
                "contacts",
                "hsds",
                name="import_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "checked",
                "applied",
                "discarded",
                name="import_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("country_code", sa.String(length=2), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "counts",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "report",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["country_code"],
            ["countries.code"],
            name=op.f("fk_import_batches_country_code_countries"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_import_batches_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batches")),
    )
    op.create_table(
        "confirmation_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("contact_person_id", sa.Integer(), nullable=True),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("nonce", sa.String(length=43), nullable=False),
        sa.Column("sent_by", sa.Integer(), nullable=True),
        sa.Column(
            "sent_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "confirmed",
                "corrected",
                name="confirmation_outcome",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.CheckConstraint(
            "num_nonnulls(location_id, contact_person_id) = 1",
            name=op.f("ck_confirmation_requests_names_one_record"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_person_id"],
            ["contact_persons.id"],
            name=op.f("fk_confirmation_requests_contact_person_id_contact_persons"),
        ),
        sa.ForeignKeyConstraint(
            ["country_code"],
            ["countries.code"],
            name=op.f("fk_confirmation_requests_country_code_countries"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_confirmation_requests_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["sent_by"], ["users.id"], name=op.f("fk_confirmation_requests_sent_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_confirmation_requests")),
        sa.UniqueConstraint("nonce", name=op.f("uq_confirmation_requests_nonce")),
    )
    op.create_index(
        op.f("ix_confirmation_requests_contact_person_id"),
        "confirmation_requests",
        ["contact_person_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_confirmation_requests_location_id"),
        "confirmation_requests",
        ["location_id"],
        unique=False,
    )
    op.create_table(
        "change_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("contact_person_id", sa.Integer(), nullable=True),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "closed",
                "moved",
                "phone",
                "hours",
                "other",
                "correction",
                name="suggestion_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "via",
            sa.Enum(
                "public",
                "confirmation",
                name="suggestion_via",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "proposed",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("confirmation_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "accepted",
                "rejected",
                name="suggestion_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="pending",
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "char_length(text) <= 2000", name=op.f("ck_change_suggestions_text_length")
        ),
        sa.CheckConstraint(
            "num_nonnulls(location_id, contact_person_id) = 1",
            name=op.f("ck_change_suggestions_names_one_record"),
        ),
        sa.ForeignKeyConstraint(
            ["confirmation_id"],
            ["confirmation_requests.id"],
            name=op.f("fk_change_suggestions_confirmation_id_confirmation_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_person_id"],
            ["contact_persons.id"],
            name=op.f("fk_change_suggestions_contact_person_id_contact_persons"),
        ),
        sa.ForeignKeyConstraint(
            ["country_code"],
            ["countries.code"],
            name=op.f("fk_change_suggestions_country_code_countries"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_change_suggestions_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_change_suggestions_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_suggestions")),
    )
    op.create_index(
        op.f("ix_change_suggestions_contact_person_id"),
        "change_suggestions",
        ["contact_person_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_change_suggestions_location_id"),
        "change_suggestions",
        ["location_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_change_suggestions_status"), "change_suggestions", ["status"], unique=False
    )
    op.add_column("contact_persons", sa.Column("source", sa.Text(), nullable=True))
    op.add_column("contact_persons", sa.Column("import_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_contact_persons_import_id_import_batches"),
        "contact_persons",
        "import_batches",
        ["import_id"],
        ["id"],
    )
    op.add_column("locations", sa.Column("import_id", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_locations_import_id"), "locations", ["import_id"], unique=False)
    op.create_foreign_key(
        op.f("fk_locations_import_id_import_batches"),
        "locations",
        "import_batches",
        ["import_id"],
        ["id"],
    )
    op.add_column("organizations", sa.Column("source", sa.Text(), nullable=True))
    op.add_column("organizations", sa.Column("external_id", sa.String(length=160), nullable=True))
    op.add_column("organizations", sa.Column("import_id", sa.Integer(), nullable=True))
    op.create_unique_constraint(
        op.f("uq_organizations_external_id"), "organizations", ["external_id"]
    )
    op.create_foreign_key(
        op.f("fk_organizations_import_id_import_batches"),
        "organizations",
        "import_batches",
        ["import_id"],
        ["id"],
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_organizations_import_id_import_batches"), "organizations", type_="foreignkey"
    )
    op.drop_constraint(op.f("uq_organizations_external_id"), "organizations", type_="unique")
    op.drop_column("organizations", "import_id")
    op.drop_column("organizations", "external_id")
    op.drop_column("organizations", "source")
    op.drop_constraint(
        op.f("fk_locations_import_id_import_batches"), "locations", type_="foreignkey"
    )
    op.drop_index(op.f("ix_locations_import_id"), table_name="locations")
    op.drop_column("locations", "import_id")
    op.drop_constraint(
        op.f("fk_contact_persons_import_id_import_batches"), "contact_persons", type_="foreignkey"
    )
    op.drop_column("contact_persons", "import_id")
    op.drop_column("contact_persons", "source")
    op.drop_index(op.f("ix_change_suggestions_status"), table_name="change_suggestions")
    op.drop_index(op.f("ix_change_suggestions_location_id"), table_name="change_suggestions")
    op.drop_index(op.f("ix_change_suggestions_contact_person_id"), table_name="change_suggestions")
    op.drop_table("change_suggestions")
    op.drop_index(op.f("ix_confirmation_requests_location_id"), table_name="confirmation_requests")
    op.drop_index(
        op.f("ix_confirmation_requests_contact_person_id"), table_name="confirmation_requests"
    )
    op.drop_table("confirmation_requests")
    op.drop_table("import_batches")
