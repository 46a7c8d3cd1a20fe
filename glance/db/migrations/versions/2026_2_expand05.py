"""Expand step: the image cache's tables ``node_reference`` and
``cached_images`` (upstream's columns), created only where absent: a
database taken over from upstream 2024.1 or later has them already, with
its rows.

Revision ID: 2026_2_expand05
Revises: 2026_2_expand04
"""

from alembic import op
import sqlalchemy as sa

revision = '2026_2_expand05'
down_revision = '2026_2_expand04'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if 'node_reference' not in existing:
        op.create_table(
            'node_reference',
            sa.Column('node_reference_id', BIG_ID, primary_key=True,
                      autoincrement=True),
            sa.Column('node_reference_url', sa.String(255), nullable=False),
            sa.UniqueConstraint('node_reference_url',
                                name='uq_node_reference_node_reference_url'),
            mysql_engine='InnoDB', mysql_charset='utf8')
    if 'cached_images' not in existing:
        op.create_table(
            'cached_images',
            sa.Column('id', BIG_ID, primary_key=True, autoincrement=True),
            sa.Column('image_id', sa.String(36), nullable=False),
            sa.Column('last_accessed', sa.DateTime(), nullable=False),
            sa.Column('last_modified', sa.DateTime(), nullable=False),
            sa.Column('size', sa.BigInteger(), nullable=False),
            sa.Column('hits', sa.Integer(), nullable=False),
            sa.Column('checksum', sa.String(32), nullable=True),
            sa.Column('node_reference_id', BIG_ID,
                      sa.ForeignKey('node_reference.node_reference_id'),
                      nullable=False),
            sa.UniqueConstraint(
                'image_id', 'node_reference_id',
                name='ix_cached_images_image_id_node_reference_id'),
            mysql_engine='InnoDB', mysql_charset='utf8')
