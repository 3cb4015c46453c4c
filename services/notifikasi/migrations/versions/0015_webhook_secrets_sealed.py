"""webhook secrets sealed: the column holds a Fernet token (issue 15), and secrets kept in clear
by earlier versions are encrypted with the configured key (NOTIFIKASI_SECRET_KEYS, else derived
from KINERJA_JWT_SECRET: run the migration with the services' configuration)

Revision ID: 0015
Revises: 0003
Create Date: 2026-12-05 13:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0003'
branch_labels = None
depends_on = None


def _box():
    import os

    from kinerja.config import load_settings
    from notifikasi.adapters.secret_box import SecretBox

    return SecretBox.from_config(os.environ.get("NOTIFIKASI_SECRET_KEYS"), load_settings("notifikasi").jwt_secret)


def upgrade() -> None:
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.alter_column('secret', existing_type=sa.String(length=200), type_=sa.String(length=500),
                              existing_nullable=False)
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, secret FROM webhooks")).all()
    box = _box() if rows else None
    for hook_id, secret in rows:
        if not box.sealed(secret):
            conn.execute(sa.text("UPDATE webhooks SET secret = :s WHERE id = :id"), {"s": box.seal(secret), "id": hook_id})


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, secret FROM webhooks")).all()
    box = _box() if rows else None
    for hook_id, secret in rows:
        conn.execute(sa.text("UPDATE webhooks SET secret = :s WHERE id = :id"), {"s": box.open(secret), "id": hook_id})
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.alter_column('secret', existing_type=sa.String(length=500), type_=sa.String(length=200),
                              existing_nullable=False)
