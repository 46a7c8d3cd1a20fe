"""SQLAlchemy models of the image tables.

Table and column names are upstream's, so operators reading the database
find what they know.
"""

import sqlalchemy as sa

from glance.common import timeutils
# The metadata definition tables share the metadata of Base: importing
# the models gives every table (migrations, create_all).
from glance.db import metadef_models  # noqa: F401
from glance.db.base import Base


class SoftDelete:
    created_at = sa.Column(sa.DateTime, nullable=False,
                           default=timeutils.utcnow)
    updated_at = sa.Column(sa.DateTime, nullable=True,
                           default=timeutils.utcnow,
                           onupdate=timeutils.utcnow)
    deleted_at = sa.Column(sa.DateTime, nullable=True)
    deleted = sa.Column(sa.Boolean, nullable=False, default=False,
                        server_default=sa.false())


VISIBILITIES = ('private', 'public', 'shared', 'community')


class Image(SoftDelete, Base):
    __tablename__ = 'images'
    __table_args__ = (
        sa.Index('checksum_image_idx', 'checksum'),
        sa.Index('visibility_image_idx', 'visibility'),
        sa.Index('ix_images_deleted', 'deleted'),
        sa.Index('owner_image_idx', 'owner'),
        sa.Index('created_at_image_idx', 'created_at'),
        sa.Index('updated_at_image_idx', 'updated_at'),
        sa.Index('os_hidden_image_idx', 'os_hidden'),
        sa.Index('os_hash_value_image_idx', 'os_hash_value'),
        # The default listing (newest first) reads this index in order.
        sa.Index('ix_images_list', 'deleted', 'os_hidden', 'created_at',
                 'id'),
    )
    id = sa.Column(sa.String(36), primary_key=True)
    name = sa.Column(sa.String(255))
    disk_format = sa.Column(sa.String(20))
    container_format = sa.Column(sa.String(20))
    size = sa.Column(sa.BigInteger().with_variant(sa.Integer, 'sqlite'))
    virtual_size = sa.Column(
        sa.BigInteger().with_variant(sa.Integer, 'sqlite'))
    status = sa.Column(sa.String(30), nullable=False)
    visibility = sa.Column(sa.Enum(*VISIBILITIES, name='image_visibility'),
                           nullable=False, server_default='shared')
    checksum = sa.Column(sa.String(32))
    os_hash_algo = sa.Column(sa.String(64))
    os_hash_value = sa.Column(sa.String(128))
    min_disk = sa.Column(sa.Integer, nullable=False, default=0)
    min_ram = sa.Column(sa.Integer, nullable=False, default=0)
    owner = sa.Column(sa.String(255))
    protected = sa.Column(sa.Boolean, nullable=False, default=False,
                          server_default=sa.false())
    os_hidden = sa.Column(sa.Boolean, nullable=False, default=False,
                          server_default=sa.false())


class ImageProperty(SoftDelete, Base):
    __tablename__ = 'image_properties'
    __table_args__ = (
        sa.Index('ix_image_properties_image_id_name', 'image_id', 'name',
                 unique=True),
        sa.Index('ix_image_properties_image_id', 'image_id'),
        sa.Index('ix_image_properties_deleted', 'deleted'),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id'),
                         nullable=False)
    name = sa.Column(sa.String(255), nullable=False)
    value = sa.Column(sa.Text)


class ImageTag(SoftDelete, Base):
    __tablename__ = 'image_tags'
    __table_args__ = (
        sa.Index('ix_image_tags_image_id', 'image_id'),
        sa.Index('ix_image_tags_image_id_tag_value', 'image_id', 'value'),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id'),
                         nullable=False)
    value = sa.Column(sa.String(255), nullable=False)


class ImageLocation(SoftDelete, Base):
    __tablename__ = 'image_locations'
    __table_args__ = (
        sa.Index('ix_image_locations_image_id', 'image_id'),
        sa.Index('ix_image_locations_deleted', 'deleted'),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id'),
                         nullable=False)
    value = sa.Column(sa.Text, nullable=False)
    meta_data = sa.Column(sa.Text, default='{}')
    status = sa.Column(sa.String(30), nullable=False,
                       server_default='active')


class ImageMember(SoftDelete, Base):
    __tablename__ = 'image_members'
    __table_args__ = (
        sa.UniqueConstraint('image_id', 'member', 'deleted_at',
                            name='image_members_image_id_member_deleted_at_key'),
        sa.Index('ix_image_members_deleted', 'deleted'),
        sa.Index('ix_image_members_image_id', 'image_id'),
        sa.Index('ix_image_members_image_id_member', 'image_id', 'member'),
    )
    id = sa.Column(sa.Integer, primary_key=True)
    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id'),
                         nullable=False)
    member = sa.Column(sa.String(255), nullable=False)
    can_share = sa.Column(sa.Boolean, nullable=False, default=False,
                          server_default=sa.false())
    status = sa.Column(sa.String(20), nullable=False, default='pending',
                       server_default='pending')


class Task(SoftDelete, Base):
    __tablename__ = 'tasks'
    __table_args__ = (
        sa.Index('ix_tasks_type', 'type'),
        sa.Index('ix_tasks_status', 'status'),
        sa.Index('ix_tasks_owner', 'owner'),
        sa.Index('ix_tasks_deleted', 'deleted'),
        sa.Index('ix_tasks_updated_at', 'updated_at'),
        sa.Index('ix_tasks_image_id', 'image_id'),
    )
    id = sa.Column(sa.String(36), primary_key=True)
    type = sa.Column(sa.String(30), nullable=False)
    status = sa.Column(sa.String(30), nullable=False)
    owner = sa.Column(sa.String(255), nullable=False)
    expires_at = sa.Column(sa.DateTime, nullable=True)
    image_id = sa.Column(sa.String(36), nullable=True)
    request_id = sa.Column(sa.String(64), nullable=True)
    user_id = sa.Column(sa.String(64), nullable=True)


class TaskInfo(Base):
    __tablename__ = 'task_info'
    task_id = sa.Column(sa.String(36), sa.ForeignKey('tasks.id'),
                        primary_key=True, nullable=False)
    input = sa.Column(sa.Text)
    result = sa.Column(sa.Text)
    message = sa.Column(sa.Text)


class ImageLease(Base):
    """Who is writing an image's data right now (an upload or a stage),
    until when: the holder renews the expiry while it runs and removes the
    row in the transaction that ends its work."""
    __tablename__ = 'image_leases'
    image_id = sa.Column(sa.String(36), primary_key=True)
    kind = sa.Column(sa.String(20), nullable=False)
    holder = sa.Column(sa.String(255), nullable=False)
    token = sa.Column(sa.String(32), nullable=False)
    created_at = sa.Column(sa.DateTime, nullable=False)
    expires_at = sa.Column(sa.DateTime, nullable=False)


class ImageQuotaLock(Base):
    """One row per owner whose storage quota is charged: a transaction
    charging bytes to the owner updates it first (``glance.db.usage``)."""
    __tablename__ = 'image_quota_locks'
    owner = sa.Column(sa.String(255), primary_key=True)
    uses = sa.Column(sa.BigInteger, nullable=False, default=0)


images = Image.__table__
image_properties = ImageProperty.__table__
image_tags = ImageTag.__table__
image_locations = ImageLocation.__table__
image_members = ImageMember.__table__
tasks = Task.__table__
task_info = TaskInfo.__table__
image_leases = ImageLease.__table__
image_quota_locks = ImageQuotaLock.__table__
