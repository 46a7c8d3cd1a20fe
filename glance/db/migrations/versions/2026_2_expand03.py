"""Expand step: the ``image_leases`` table (who is writing the data of an
image, until when), so that an upload or a stage whose process died is
found and undone.

Revision ID: 2026_2_expand03
Revises: 2026_2_expand02
"""

from alembic import op
import sqlalchemy as sa

revision = '2026_2_expand03'
down_revision = '2026_2_expand02'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'image_leases',
        sa.Column('image_id', sa.String(36), primary_key=True),
        sa.Column('kind', sa.String(20), nullable=False),
        sa.Column('holder', sa.String(255), nullable=False),
        sa.Column('token', sa.String(32), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False))
