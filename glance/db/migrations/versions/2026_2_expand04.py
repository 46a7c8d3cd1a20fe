"""Expand step: the ``image_quota_locks`` table, one row per owner whose
storage quota is charged. A transaction charging bytes to an owner first
updates the owner's row: on MySQL/MariaDB (Galera included, where the
write conflicts between nodes) and PostgreSQL, two such transactions of
one owner never run at once.

Revision ID: 2026_2_expand04
Revises: 2026_2_expand03
"""

from alembic import op
import sqlalchemy as sa

revision = '2026_2_expand04'
down_revision = '2026_2_expand03'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'image_quota_locks',
        sa.Column('owner', sa.String(255), primary_key=True),
        sa.Column('uses', sa.BigInteger(), nullable=False, default=0))
