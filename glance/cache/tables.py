"""The image cache's tables in the main database (centralized_db driver).

``node_reference`` names each API node by its URL; ``cached_images``
holds one row per image a node has complete in its cache. Columns are
upstream's (its 2024.1 expand step), so a database taken over from
upstream keeps its rows, and upstream's tools read ours. The tables are
created by the migration ``2026_2_expand05`` where they are absent.

They are kept out of the models' metadata: only the cache reads them.
"""

import sqlalchemy as sa

metadata = sa.MetaData()

# SQLite only counts up an INTEGER PRIMARY KEY.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

node_reference = sa.Table(
    'node_reference', metadata,
    sa.Column('node_reference_id', BIG_ID, primary_key=True,
              autoincrement=True),
    sa.Column('node_reference_url', sa.String(255), nullable=False,
              unique=True))

cached_images = sa.Table(
    'cached_images', metadata,
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
    sa.UniqueConstraint('image_id', 'node_reference_id',
                        name='ix_cached_images_image_id_node_reference_id'))
