"""Sign-in with OpenID Connect (issue 25): what a session keeps of the provider's answer (its
refresh token, asked at each renewal; its ID token, for the provider's logout).

Revision ID: oidc1
Revises: auth1
Create Date: 2026-12-07 23:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "oidc1"
down_revision: str | None = "auth1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE oidc_sessions (token_id integer NOT NULL, refresh_token text,"
        " id_token text, renew_at timestamptz NOT NULL,"
        " CONSTRAINT pk_oidc_sessions PRIMARY KEY (token_id),"
        " CONSTRAINT fk_oidc_sessions_token_id_tokens FOREIGN KEY (token_id)"
        " REFERENCES tokens (id) ON DELETE CASCADE)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE oidc_sessions")
