"""The is_open_at() SQL function: "open now" evaluated inside a search, before LIMIT.

It mirrors directory.places.opening_hours.state_at (tests/test_open_now.py checks with hypothesis
that both agree): a status other than "open" wins until status_until; unknown hours are
never open; a range ending before it starts runs past midnight; "24:00" ends the day.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

IS_OPEN_AT = """
CREATE OR REPLACE FUNCTION is_open_at(
    hours jsonb, status text, status_until timestamptz, tz text, at timestamptz
) RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    local timestamp := at AT TIME ZONE tz;
    days CONSTANT text[] := ARRAY['mo', 'tu', 'we', 'th', 'fr', 'sa', 'su'];
    today text := days[extract(isodow FROM local)::int];
    yesterday text := days[(extract(isodow FROM local)::int + 5) % 7 + 1];
    now_hm text := to_char(local, 'HH24:MI');
    range jsonb;
BEGIN
    IF status <> 'open' AND (status_until IS NULL OR at < status_until) THEN
        RETURN false;
    END IF;
    IF hours IS NULL THEN
        RETURN false;
    END IF;
    IF coalesce((hours ->> 'always')::boolean, false) THEN
        RETURN true;
    END IF;
    FOR range IN SELECT jsonb_array_elements(coalesce(hours -> today, '[]'::jsonb)) LOOP
        IF (range ->> 1 > range ->> 0 AND now_hm >= range ->> 0 AND now_hm < range ->> 1)
           OR (range ->> 1 < range ->> 0 AND now_hm >= range ->> 0) THEN
            RETURN true;
        END IF;
    END LOOP;
    FOR range IN SELECT jsonb_array_elements(coalesce(hours -> yesterday, '[]'::jsonb)) LOOP
        IF range ->> 1 < range ->> 0 AND now_hm < range ->> 1 THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END
$$;
"""


def upgrade() -> None:
    op.execute(IS_OPEN_AT)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS is_open_at(jsonb, text, timestamptz, text, timestamptz)")
