"""SQLAlchemy models of the metadata definitions catalog.

Table and column names are upstream's. Rows are deleted for real (no
soft delete). Names compare byte for byte on every database: MySQL's
default collations would otherwise make ``Foo`` and ``foo`` the same
namespace there and two different ones on SQLite and PostgreSQL.
"""

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from glance.common import timeutils
from glance.db.base import Base


def _name(length=80):
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, charset='utf8mb4', collation='utf8mb4_bin'),
        'mysql', 'mariadb')


def _text():
    # TEXT is 64 KiB on MySQL; a property with a long enum can exceed it.
    return sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql', 'mariadb')


class Timestamps:
    created_at = sa.Column(sa.DateTime, nullable=False,
                           default=timeutils.utcnow)
    updated_at = sa.Column(sa.DateTime, nullable=True,
                           default=timeutils.utcnow,
                           onupdate=timeutils.utcnow)


class MetadefNamespace(Timestamps, Base):
    __tablename__ = 'metadef_namespaces'
    __table_args__ = (
        sa.UniqueConstraint('namespace',
                            name='uq_metadef_namespaces_namespace'),
        sa.Index('ix_metadef_namespaces_owner', 'owner'),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    namespace = sa.Column(_name(), nullable=False)
    display_name = sa.Column(sa.String(80))
    description = sa.Column(_text())
    visibility = sa.Column(sa.String(32), nullable=False,
                           server_default='private')
    protected = sa.Column(sa.Boolean, nullable=False, default=False,
                          server_default=sa.false())
    owner = sa.Column(sa.String(255), nullable=False)


class MetadefObject(Timestamps, Base):
    __tablename__ = 'metadef_objects'
    __table_args__ = (
        sa.UniqueConstraint('namespace_id', 'name',
                            name='uq_metadef_objects_namespace_id_name'),
        sa.Index('ix_metadef_objects_name', 'name'),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    namespace_id = sa.Column(sa.Integer,
                             sa.ForeignKey('metadef_namespaces.id'),
                             nullable=False)
    name = sa.Column(_name(), nullable=False)
    description = sa.Column(_text())
    required = sa.Column(_text())
    json_schema = sa.Column(_text(), nullable=False)


class MetadefProperty(Timestamps, Base):
    __tablename__ = 'metadef_properties'
    __table_args__ = (
        sa.UniqueConstraint('namespace_id', 'name',
                            name='uq_metadef_properties_namespace_id_name'),
        sa.Index('ix_metadef_properties_name', 'name'),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    namespace_id = sa.Column(sa.Integer,
                             sa.ForeignKey('metadef_namespaces.id'),
                             nullable=False)
    name = sa.Column(_name(), nullable=False)
    json_schema = sa.Column(_text(), nullable=False)


class MetadefResourceType(Timestamps, Base):
    __tablename__ = 'metadef_resource_types'
    __table_args__ = (
        sa.UniqueConstraint('name', name='uq_metadef_resource_types_name'),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(_name(), nullable=False)
    protected = sa.Column(sa.Boolean, nullable=False, default=False,
                          server_default=sa.false())


class MetadefNamespaceResourceType(Timestamps, Base):
    __tablename__ = 'metadef_namespace_resource_types'
    __table_args__ = (
        sa.Index('ix_metadef_ns_res_types_namespace_id', 'namespace_id'),
    )
    resource_type_id = sa.Column(sa.Integer,
                                 sa.ForeignKey('metadef_resource_types.id'),
                                 primary_key=True, nullable=False)
    namespace_id = sa.Column(sa.Integer,
                             sa.ForeignKey('metadef_namespaces.id'),
                             primary_key=True, nullable=False)
    properties_target = sa.Column(sa.String(80))
    prefix = sa.Column(sa.String(80))


class MetadefTag(Timestamps, Base):
    __tablename__ = 'metadef_tags'
    __table_args__ = (
        sa.UniqueConstraint('namespace_id', 'name',
                            name='uq_metadef_tags_namespace_id_name'),
        sa.Index('ix_metadef_tags_name', 'name'),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    namespace_id = sa.Column(sa.Integer,
                             sa.ForeignKey('metadef_namespaces.id'),
                             nullable=False)
    name = sa.Column(_name(), nullable=False)


namespaces = MetadefNamespace.__table__
objects = MetadefObject.__table__
properties = MetadefProperty.__table__
resource_types = MetadefResourceType.__table__
associations = MetadefNamespaceResourceType.__table__
tags = MetadefTag.__table__
