"""The workspace's accounts (issue 12): sign-in, roles and the second factor.

* ``users.role``: ``consular_staff`` is renamed ``consular`` (existing rows follow) and
  ``organization_editor`` is added, which needs ``organization_id`` (a new CHECK, like the
  focal point's country);
* ``users.organization_id``: the organization an editor works for;
* ``users.password_hash`` becomes nullable: an invited user has none until the
  set-password link is used;
* ``users.security_stamp``: random, changed with the password; existing rows get one each;
* ``users.totp_secret``, ``totp_enabled``, ``totp_last_step``, ``recovery_codes`` (SHA-256
  digests), ``last_sign_in_at``.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ROLES_BEFORE = ("secretariat", "focal_point", "consular_staff")
ROLES_AFTER = ("secretariat", "focal_point", "organization_editor", "consular")


def _role_check(roles: tuple[str, ...]) -> None:
    values = ", ".join(f"'{role}'" for role in roles)
    op.create_check_constraint("user_role", "users", f"role IN ({values})")


def upgrade() -> None:
    op.drop_constraint(op.f("ck_users_user_role"), "users", type_="check")
    op.execute("UPDATE users SET role = 'consular' WHERE role = 'consular_staff'")
    _role_check(ROLES_AFTER)
    op.add_column("users", sa.Column("organization_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_users_organization_id_organizations"),
        "users",
        "organizations",
        ["organization_id"],
        ["id"],
    )
    op.create_check_constraint(
        "organization_editor_has_organization",
        "users",
        "role <> 'organization_editor' OR organization_id IS NOT NULL",
    )
    op.alter_column("users", "password_hash", existing_type=sa.Text(), nullable=True)
    op.add_column("users", sa.Column("security_stamp", sa.String(length=64), nullable=True))
    op.execute("UPDATE users SET security_stamp = md5(random()::text || id::text)")
    op.alter_column("users", "security_stamp", nullable=False)
    op.add_column("users", sa.Column("totp_secret", sa.String(length=64), nullable=True))
    op.add_column(
        "users",
        sa.Column("totp_enabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column("users", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.add_column(
        "users",
        sa.Column(
            "recovery_codes",
            postgresql.ARRAY(sa.String(length=64)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
    )
    op.add_column("users", sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for column in (
        "last_sign_in_at",
        "recovery_codes",
        "totp_last_step",
        "totp_enabled",
        "totp_secret",
        "security_stamp",
    ):
        op.drop_column("users", column)
    # Accounts without a password (invited, never set) get one no password matches ("!" is
    # no hash werkzeug makes); deleting them would break their audit entries.
    op.execute("UPDATE users SET password_hash = '!' WHERE password_hash IS NULL")
    op.alter_column("users", "password_hash", existing_type=sa.Text(), nullable=False)
    op.drop_constraint(
        op.f("ck_users_organization_editor_has_organization"), "users", type_="check"
    )
    op.drop_constraint(op.f("fk_users_organization_id_organizations"), "users", type_="foreignkey")
    op.drop_column("users", "organization_id")
    op.drop_constraint(op.f("ck_users_user_role"), "users", type_="check")
    # Organization editors have no role before this revision: they become consular staff
    # (read-only), the narrowest role there is.
    op.execute(
        "UPDATE users SET role = 'consular_staff' WHERE role IN ('consular', 'organization_editor')"
    )
    _role_check(ROLES_BEFORE)
