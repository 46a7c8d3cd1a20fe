"""The glance_store adapter: any driver of upstream's glance_store library
as a store of this service.

The native drivers (file, http, rbd, s3, swift, vmware) come first. A
backend they do not cover -- cinder above all, or anything published in
upstream's ``glance_store.drivers`` entry point group -- is reached
through this one driver, type ``glance_store``, so a deployment is never
stranded on a store this service does not implement itself::

    [DEFAULT]
    enabled_backends = fast:file, volumes:glance_store

    [volumes]
    glance_store_driver = cinder
    cinder_volume_type = glance
    cinder_store_auth_address = http://keystone:5000/v3
    ...

The store's section holds upstream's own option names, read by upstream's
driver as upstream Glance would: the adapter gives the driver a
configuration object of its own that reads the same files (and
environment) as the service, so upstream's definitions never meet this
service's (both have a ``filesystem_store_datadir``, for one). In
single-store mode the options are in ``[glance_store]``, with ``stores =
glance_store`` and ``default_store = glance_store``.

What upstream's driver does is what happens: its locations are written
and read as upstream writes them, its errors become this service's
(``NotFound`` stays NotFound, ``StorageFull`` 413, a size mismatch 400 ...)
and its blocking behaviour is its own: the calls run in the calling green
thread, as upstream Glance runs them. The driver hashes the data it
writes (md5 and sha512, which this service computes as well): the price
of the fallback.
"""

import logging
from importlib import metadata

from oslo_config import cfg

from glance.store import driver
from glance.store import exceptions

LOG = logging.getLogger(__name__)

UPSTREAM_GROUP = 'glance_store.drivers'
# Upstream's test-only driver and the old dotted aliases are not offered.
HIDDEN = ('no_conf',)


def _upstream():
    try:
        import glance_store.capabilities
        import glance_store.exceptions
        import glance_store.location
    except ImportError as e:
        raise exceptions.BadStoreConfiguration(
            'The glance_store store type needs the glance_store library: '
            '%s' % e)
    return glance_store


def upstream_drivers():
    """Names of the drivers upstream's library publishes here."""
    names = {ep.name for ep in metadata.entry_points(group=UPSTREAM_GROUP)}
    return sorted(n for n in names if '.' not in n and n not in HIDDEN)


def _upstream_class(name):
    found = [ep for ep in metadata.entry_points(group=UPSTREAM_GROUP)
             if ep.name == name]
    if not found or name in HIDDEN or '.' in name:
        raise exceptions.BadStoreConfiguration(
            'glance_store_driver %r is not a driver of glance_store '
            '(installed: %s)' % (name, ', '.join(upstream_drivers())))
    return found[0].load()


def _slice(chunks, offset, length):
    """The bytes of ``chunks`` from ``offset``, ``length`` of them."""
    position = 0
    end = None if length is None else offset + length
    for chunk in chunks:
        start, position = position, position + len(chunk)
        if position <= offset:
            continue
        piece = chunk[max(0, offset - start):]
        if end is not None:
            piece = piece[:max(0, end - max(start, offset))]
        if piece:
            yield piece
        if end is not None and position >= end:
            return


class GlanceStoreAdapter(driver.Store):

    type_name = 'glance_store'
    # Known once upstream's driver is configured: its schemes and what it
    # can do.
    schemes = ()
    capabilities = frozenset()

    @classmethod
    def config_opts(cls, backend_section=False):
        return [
            cfg.StrOpt('glance_store_driver',
                       help='With a store of type glance_store: the driver '
                            "of upstream's glance_store library that "
                            'serves it (cinder, or any name of its '
                            'glance_store.drivers entry points), '
                            "configured with upstream's option names in "
                            'the same section. The fallback for stores '
                            'this service has no driver of its own for.'),
        ]

    # -- configuration -------------------------------------------------------

    def configure(self):
        self.lib = _upstream()
        name = (self.options.glance_store_driver or '').strip()
        if not name:
            raise exceptions.BadStoreConfiguration(
                'Store %s: glance_store_driver must name a driver of '
                'glance_store (installed: %s)'
                % (self.name, ', '.join(upstream_drivers())))
        self.driver_name = name
        try:
            cls = _upstream_class(name)
        except exceptions.BadStoreConfiguration as e:
            raise exceptions.BadStoreConfiguration(
                'Store %s: %s' % (self.name, e))
        self.conf = self._private_conf()
        backend = self.name if self.multi_store else None
        self._quiet_options(cls)
        try:
            self.upstream = cls(self.conf, backend=backend)
            self.upstream.configure(re_raise_bsc=True)
        except Exception as e:
            raise exceptions.BadStoreConfiguration(
                "Store %s: glance_store's %s driver cannot be used: %s"
                % (self.name, name, e))
        self.schemes = tuple(self.upstream.get_schemes())
        bits = self.lib.capabilities.BitMasks
        caps = set()
        if self.upstream.is_capable(bits.READ_ACCESS):
            caps.add(driver.READ)
        if self.upstream.is_capable(bits.WRITE_ACCESS):
            caps.add(driver.WRITE)
        if self.upstream.is_capable(bits.READ_OFFSET):
            caps.add(driver.SEEK)
        self.capabilities = caps
        self.url_prefix = getattr(self.upstream, 'url_prefix', None)
        if not self.url_prefix and hasattr(self.upstream, '_set_url_prefix'):
            # Single-store: upstream works the prefix out only for named
            # backends; it tells which locations are this store's.
            try:
                self.upstream._set_url_prefix()
                self.url_prefix = self.upstream.url_prefix
            except Exception:
                self.url_prefix = None

    def _private_conf(self):
        """A configuration of upstream's driver's own, reading the files
        the service reads."""
        service = cfg.CONF
        conf = cfg.ConfigOpts()
        # Upstream's consuming service registers enabled_backends; some
        # drivers read it.
        conf.register_opt(cfg.DictOpt('enabled_backends'))
        files = list(getattr(service, 'config_file', None) or [])
        dirs = list(getattr(service, 'config_dir', None) or [])
        if isinstance(getattr(service, 'config_dir', None), str):
            dirs = [service.config_dir]
        conf(args=[], project='glance', default_config_files=files,
             default_config_dirs=dirs)
        return conf

    def _quiet_options(self, cls):
        """Make the service know upstream's option names in the store's
        section, so they are not reported as ignored."""
        group = self.name if self.multi_store else 'glance_store'
        for opt in list(getattr(cls, 'OPTIONS', None) or []):
            try:
                cfg.CONF.register_opt(opt, group=group)
            except cfg.DuplicateOptError:
                pass
            except Exception as e:
                LOG.debug('Option %s not registered: %s', opt.dest, e)

    def properties(self):
        """The driver's name and its options' values, secrets left out."""
        group = self.name if self.multi_store else 'glance_store'
        shown = {'glance_store_driver': self.driver_name}
        for opt in getattr(type(self.upstream), 'OPTIONS', None) or []:
            if opt.secret:
                continue
            try:
                value = self.conf[group][opt.dest]
                if value is None and self.multi_store:
                    # Unset in the store's section: upstream's default.
                    value = self.conf['backend_defaults'][opt.dest]
            except Exception:
                continue
            if value is None or isinstance(value, (bool, int, float, str)):
                shown[opt.dest] = value
            elif isinstance(value, (list, tuple)):
                shown[opt.dest] = [str(v) for v in value]
            else:
                shown[opt.dest] = str(value)
        return shown

    def location_prefixes(self):
        prefixes = super().location_prefixes()
        if self.url_prefix:
            prefixes.append(self.url_prefix)
        return prefixes

    # -- upstream's locations and errors -------------------------------------

    def _location(self, uri):
        scheme = driver.scheme_of(uri)
        if scheme not in self.schemes:
            raise exceptions.BadStoreUri(
                'Store %s does not read %s:// locations' % (self.name, scheme))
        try:
            return self.lib.location.Location(
                scheme, self.upstream.get_store_location_class(), self.conf,
                uri=uri, backend=self.name if self.multi_store else None)
        except self.lib.exceptions.GlanceStoreException as e:
            raise exceptions.BadStoreUri('Store %s: %s' % (self.name, e))

    def _translate(self, error, what):
        """This service's exception for one of upstream's."""
        up = self.lib.exceptions
        if not isinstance(error, up.GlanceStoreException):
            # This service's own (the image reader's: client gone, size
            # cap) or a plain failure: raised as it is.
            return error
        message = 'Store %s could not %s: %s' % (self.name, what, error)
        table = ((up.NotFound, exceptions.NotFound),
                 (up.Duplicate, exceptions.Duplicate),
                 (up.StorageFull, exceptions.StorageFull),
                 (up.StorageWriteDenied, exceptions.StorageWriteDenied),
                 (up.InUseByStore, exceptions.InUseByStore),
                 (up.HasSnapshot, exceptions.InUseByStore),
                 (up.BadStoreUri, exceptions.BadStoreUri),
                 (up.UnknownScheme, exceptions.BadStoreUri),
                 (up.StoreAddDisabled, exceptions.StoreAddDisabled),
                 (up.StoreDeleteNotSupported,
                  exceptions.StoreDeleteNotSupported),
                 (up.Forbidden, exceptions.StorageWriteDenied),
                 (up.Invalid, exceptions.SizeMismatch))
        for theirs, ours in table:
            if isinstance(error, theirs):
                return ours(message)
        return exceptions.RemoteServiceUnavailable(message)

    # -- data ----------------------------------------------------------------

    def add(self, image_id, reader, size=None, *, context=None):
        try:
            uri, written, _md5, _hash, meta = self.upstream.add(
                image_id, reader, size or 0, 'sha512', context=context)
        except Exception as e:
            raise self._translate(e, 'store image %s' % image_id)
        if size is not None and written != size:
            # Upstream takes size 0 for "unknown": an empty image of
            # announced size 0 is still checked here.
            try:
                self.upstream.delete(self._location(uri), context=context)
            except Exception as e:
                LOG.warning('Store %s could not remove %s: %s',
                            self.name, uri, e)
            raise exceptions.SizeMismatch(
                'Image data had %d bytes, %d were announced'
                % (written, size))
        return uri, written, dict(meta or {}, **self.location_metadata())

    def get(self, location, offset=0, length=None, *, context=None):
        driver.check_range(offset, length)
        loc = self._location(location)
        ranged = bool(offset) or length is not None
        try:
            total = self.upstream.get_size(loc, context=context) \
                if ranged else None
            if ranged and total is not None and offset > 0 \
                    and offset >= total:
                raise exceptions.InvalidRange(
                    'Offset %d beyond the end of %s (%d bytes)'
                    % (offset, location, total))
            if not ranged:
                chunks, total = self.upstream.get(loc, context=context)
                return self._iterator(chunks, True), total
            if driver.SEEK in self.capabilities:
                chunks, _ = self.upstream.get(loc, offset=offset,
                                              chunk_size=length,
                                              context=context)
                return self._iterator(chunks, True), total
            chunks, _ = self.upstream.get(loc, context=context)
        except Exception as e:
            raise self._translate(e, 'read %s' % location)
        # The driver reads from the start only: the range is cut out here.
        return (self._iterator(_slice(chunks, offset, length), False,
                               close=getattr(chunks, 'close', None)), total)

    def _iterator(self, chunks, seekable, close=None):
        close = close or getattr(chunks, 'close', None)

        def pieces():
            try:
                for chunk in chunks:
                    if chunk:
                        yield chunk
            except exceptions.StoreError:
                raise
            except Exception as e:
                raise self._translate(e, 'read')
        return driver.ChunkIterator(pieces(), close, seekable=seekable)

    def get_size(self, location, *, context=None):
        loc = self._location(location)
        try:
            return self.upstream.get_size(loc, context=context)
        except Exception as e:
            raise self._translate(e, 'find the size of %s' % location)

    def delete(self, location, *, context=None):
        if self.url_prefix and not location.startswith(self.url_prefix):
            raise exceptions.BadStoreUri('Store %s does not own %s'
                                         % (self.name, location))
        loc = self._location(location)
        try:
            self.upstream.delete(loc, context=context)
        except Exception as e:
            raise self._translate(e, 'delete %s' % location)
