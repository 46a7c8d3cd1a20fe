"""The declarative base every table of the service is declared on: one
metadata for the image tables (``models``) and the metadata definition
tables (``metadef_models``)."""

from sqlalchemy import orm


class Base(orm.DeclarativeBase):
    pass
