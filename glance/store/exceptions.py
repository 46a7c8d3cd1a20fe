"""Errors raised by the store drivers.

Each class derives from the ``glance.common.exception`` class whose HTTP
code fits, so the single error-to-response mapping of ``glance.common.wsgi``
handles store errors without knowing about them. ``StoreError`` marks every
one of them, for callers that want to catch "anything the store said".
"""

from glance.common import exception


class StoreError(exception.GlanceError):
    """Base of every store error (500 unless a subclass says otherwise)."""
    message = 'The image store failed.'


class NotFound(StoreError, exception.NotFound):
    message = 'The image data was not found in the store.'


class Duplicate(StoreError, exception.Duplicate):
    message = 'The store already holds data for this image.'


class StorageFull(StoreError, exception.LimitExceeded):
    """No space left on the backing storage (ENOSPC and friends): 413."""
    message = 'There is not enough free space in the image store.'


class StorageWriteDenied(StoreError, exception.ServiceUnavailable):
    """The backing storage refused a write (permissions, read-only fs)."""
    message = 'The image store refused to write the data.'


class StoreAddDisabled(StoreError):
    """Writes go to a store that cannot take them (read-only store)."""
    code = 410
    message = 'The store does not accept new image data.'


class StoreDeleteNotSupported(StoreError, exception.Forbidden):
    """The store cannot delete data (read-only store).

    Deleting an image whose data lives in such a store should leave the
    data alone rather than fail: callers catch this and log.
    """
    message = 'The store cannot delete image data.'


class SizeMismatch(StoreError, exception.Invalid):
    """The reader gave more or fewer bytes than the announced size."""
    message = 'The image data does not have the announced size.'


class BadStoreUri(StoreError, exception.Invalid):
    message = 'The store location is invalid.'


class UnknownScheme(StoreError, exception.Invalid):
    message = 'No configured store handles this location scheme.'


class StoreNotDriven(UnknownScheme):
    """A location of a store type this service has no driver for yet
    (swift, rbd, s3, vsphere, cinder), written by another deployment of
    the Image service: the location is kept as it is and its data is
    unavailable (503) until the driver exists. Adding such a location
    stays a 400 (an UnknownScheme)."""
    code = 503
    message = 'The image data is in a store this service cannot read yet.'


class StoreNotConfigured(StoreError, exception.Invalid):
    """A store name that is not enabled, e.g. from X-Image-Meta-Store."""
    message = 'The requested store is not configured.'


class BadStoreConfiguration(StoreError):
    """The configuration of a store is unusable (raised at start-up)."""
    message = 'The store configuration is invalid.'


class RemoteServiceUnavailable(StoreError, exception.ServiceUnavailable):
    """A remote store (HTTP server, ...) could not be reached or failed."""
    message = 'The remote image store is unavailable.'


class InvalidRange(StoreError, exception.RangeNotSatisfiable):
    """A read starts beyond the end of the data (or has a negative size)."""
    message = 'The requested range cannot be satisfied.'


class LocationRefused(StoreError, exception.Forbidden):
    """The store will not read a location: its URL, or a redirect from
    it, leads where the service may not fetch from (an internal address,
    a scheme, host or port the URL filter refuses)."""
    message = 'The service may not read the image data at this location.'


class InUseByStore(StoreError, exception.Conflict):
    """The store refuses to delete data something else still uses (RBD
    clones of an image's snapshot): 409, the data left as it is."""
    message = 'The image data is in use and cannot be deleted.'
