"""Expand step: the tables of the metadata definitions catalog
(namespaces, their objects, properties and tags, resource types and
their associations with namespaces).

Revision ID: 2026_2_expand02
Revises: 2026_2_expand01
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '2026_2_expand02'
down_revision = '2026_2_expand01'
branch_labels = None
depends_on = None


def _name():
    return sa.String(80).with_variant(
        mysql.VARCHAR(80, charset='utf8mb4', collation='utf8mb4_bin'),
        'mysql', 'mariadb')


def _text():
    return sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql', 'mariadb')


def _timestamps():
    return [sa.Column('created_at', sa.DateTime(), nullable=False),
            sa.Column('updated_at', sa.DateTime(), nullable=True)]


def _namespace_fk():
    return sa.Column('namespace_id', sa.Integer(),
                     sa.ForeignKey('metadef_namespaces.id'), nullable=False)


def upgrade():
    op.create_table(
        'metadef_namespaces',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('namespace', _name(), nullable=False),
        sa.Column('display_name', sa.String(80), nullable=True),
        sa.Column('description', _text(), nullable=True),
        sa.Column('visibility', sa.String(32), nullable=False,
                  server_default='private'),
        sa.Column('protected', sa.Boolean(), nullable=False,
                  server_default=sa.false()),
        sa.Column('owner', sa.String(255), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('namespace',
                            name='uq_metadef_namespaces_namespace'))
    op.create_index('ix_metadef_namespaces_owner', 'metadef_namespaces',
                    ['owner'])
    op.create_table(
        'metadef_resource_types',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('name', _name(), nullable=False),
        sa.Column('protected', sa.Boolean(), nullable=False,
                  server_default=sa.false()),
        *_timestamps(),
        sa.UniqueConstraint('name', name='uq_metadef_resource_types_name'))
    op.create_table(
        'metadef_namespace_resource_types',
        sa.Column('resource_type_id', sa.Integer(),
                  sa.ForeignKey('metadef_resource_types.id'),
                  primary_key=True),
        sa.Column('namespace_id', sa.Integer(),
                  sa.ForeignKey('metadef_namespaces.id'), primary_key=True),
        sa.Column('properties_target', sa.String(80), nullable=True),
        sa.Column('prefix', sa.String(80), nullable=True),
        *_timestamps())
    op.create_index('ix_metadef_ns_res_types_namespace_id',
                    'metadef_namespace_resource_types', ['namespace_id'])
    op.create_table(
        'metadef_objects',
        sa.Column('id', sa.Integer(), primary_key=True),
        _namespace_fk(),
        sa.Column('name', _name(), nullable=False),
        sa.Column('description', _text(), nullable=True),
        sa.Column('required', _text(), nullable=True),
        sa.Column('json_schema', _text(), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('namespace_id', 'name',
                            name='uq_metadef_objects_namespace_id_name'))
    op.create_index('ix_metadef_objects_name', 'metadef_objects', ['name'])
    op.create_table(
        'metadef_properties',
        sa.Column('id', sa.Integer(), primary_key=True),
        _namespace_fk(),
        sa.Column('name', _name(), nullable=False),
        sa.Column('json_schema', _text(), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('namespace_id', 'name',
                            name='uq_metadef_properties_namespace_id_name'))
    op.create_index('ix_metadef_properties_name', 'metadef_properties',
                    ['name'])
    op.create_table(
        'metadef_tags',
        sa.Column('id', sa.Integer(), primary_key=True),
        _namespace_fk(),
        sa.Column('name', _name(), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('namespace_id', 'name',
                            name='uq_metadef_tags_namespace_id_name'))
    op.create_index('ix_metadef_tags_name', 'metadef_tags', ['name'])
