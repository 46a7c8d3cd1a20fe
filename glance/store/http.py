"""The read-only HTTP store: image data that lives on a web server.

Locations are the server's own ``http://`` or ``https://`` URLs (with
optional ``user:password@``). Reads go through ``glance.common.http_client``
with the URL filter of ``[import_filtering_opts]``, the one web-download
obeys: the location and every redirect from it (five at most) must lead
to an allowed scheme, host and port, and to public addresses unless the
operator exempts internal ones; the client connects to the addresses
that passed, so a name that resolves elsewhere later (DNS rebinding)
cannot lead inward. A refused URL raises ``exceptions.LocationRefused``
and nothing is fetched. ``vet_location`` is the same check alone, for
callers that add locations.

A read at an offset asks for a ``Range``: when the server answers 206 the
returned iterator is ``seekable``; when it ignores the header (200) the
bytes before the offset are read and dropped, so the caller gets the same
bytes either way, only slower. That is why the store does not claim the
SEEK capability: it cannot promise it for every server.
"""

import logging
import re
import ssl

from oslo_config import cfg

from glance.common import exception
from glance.common import http_client
from glance.common import url_filter
from glance.store import driver
from glance.store import exceptions

LOG = logging.getLogger(__name__)

MAX_REDIRECTS = 5
# Seconds to connect, and to wait for each read (not the whole transfer,
# so the size of what can be downloaded is not limited).
CONNECT_TIMEOUT = 30
READ_TIMEOUT = 300

_CONTENT_RANGE = re.compile(r'bytes (\d+)-(\d+)/(\d+|\*)$')


def _int_header(response, name):
    value = (response.getheader(name) or '').strip()
    return int(value) if value.isdigit() else None


def _slice(chunks, skip, length):
    """The bytes of ``chunks`` after ``skip`` bytes, ``length`` at most."""
    for chunk in chunks:
        if skip:
            if len(chunk) <= skip:
                skip -= len(chunk)
                continue
            chunk, skip = chunk[skip:], 0
        if length is not None:
            if len(chunk) >= length:
                if length:
                    yield chunk[:length]
                return
            length -= len(chunk)
        yield chunk


class HttpStore(driver.Store):

    type_name = 'http'
    schemes = ('http', 'https')
    capabilities = frozenset({driver.READ})

    @classmethod
    def config_opts(cls, backend_section=False):
        return [
            cfg.BoolOpt('https_insecure', default=True,
                        help='Do not verify the certificate of HTTPS servers '
                             'the http store reads from. Upstream default '
                             '(True) kept for compatibility; set it to False '
                             'wherever possible.'),
            cfg.StrOpt('https_ca_certificates_file',
                       help='CA bundle used to verify HTTPS servers when '
                            'https_insecure is False; unset uses the system '
                            'bundle.'),
            cfg.DictOpt('http_proxy_information', default={},
                        help='Proxies of the http store as scheme:proxy-url '
                             'pairs, e.g. "http:proxy.example.org:3128,'
                             'https:proxy.example.org:3128".'),
        ]

    def configure(self):
        opts = self.options
        if opts.https_insecure:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            context = ssl.create_default_context(
                cafile=opts.https_ca_certificates_file or None)
        self.ssl_context = context
        # A proxy named here serves its scheme for every host, whatever
        # the environment says; other schemes follow the environment.
        self.proxies = dict(opts.http_proxy_information or {})

    def properties(self):
        return {}

    def vet_location(self, location):
        """Raise ``exceptions.LocationRefused`` (403) when the URL filter
        refuses ``location``, ``exceptions.BadStoreUri`` when it is no
        http(s) URL. Resolves its host: call it outside transactions."""
        _vet(self._parse(location))

    def _parse(self, location):
        try:
            parts = url_filter.split_url(location)
        except exception.BadRequest as e:
            raise exceptions.BadStoreUri('Bad location: %s' % e.msg)
        if parts.scheme not in self.schemes or not parts.host:
            raise exceptions.BadStoreUri('Not an HTTP location: %s'
                                         % url_filter.display(location))
        return location

    def _request(self, method, location, headers=None):
        self._parse(location)
        try:
            response = http_client.request(
                method, location, check=_vet, headers=headers,
                timeout=READ_TIMEOUT, connect_timeout=CONNECT_TIMEOUT,
                max_redirects=MAX_REDIRECTS, require_success=False,
                ssl_context=self.ssl_context, proxies=self.proxies)
        except (http_client.Unreachable, http_client.BadAnswer) as e:
            raise exceptions.RemoteServiceUnavailable(e.msg)
        except exception.BadRequest as e:
            # Too many redirects, a loop, an invalid redirect.
            raise exceptions.BadStoreUri(e.msg)
        if response.status < 300:
            return response
        response.close()
        status = response.status
        what = '%s %s returned %d' % (method, url_filter.display(location),
                                      status)
        if status in (404, 410):
            raise exceptions.NotFound(what)
        if status == 416:
            raise exceptions.InvalidRange(what)
        if status >= 500:
            raise exceptions.RemoteServiceUnavailable(what)
        raise exceptions.BadStoreUri(what)

    def get(self, location, offset=0, length=None, *, context=None):
        driver.check_range(offset, length)
        headers = {}
        if offset or length is not None:
            end = '' if length is None else offset + length - 1
            if length == 0:
                # "bytes=N-(N-1)" is not a valid range: ask for nothing.
                return (driver.ChunkIterator(iter(())),
                        self.get_size(location))
            headers['Range'] = 'bytes=%d-%s' % (offset, end)
        response = self._request('GET', location, headers)
        chunks = _chunks(response)
        if response.status == 206:
            match = _CONTENT_RANGE.match(
                response.getheader('Content-Range', ''))
            if not match or int(match.group(1)) != offset:
                response.close()
                raise exceptions.RemoteServiceUnavailable(
                    'Unexpected Content-Range from %s'
                    % url_filter.display(location))
            total = match.group(3)
            total = int(total) if total.isdigit() else None
            return (driver.ChunkIterator(_slice(chunks, 0, length),
                                         response.close, seekable=True),
                    total)
        total = _int_header(response, 'Content-Length')
        if headers:
            LOG.debug('%s ignored the Range header; skipping %d bytes',
                      url_filter.display(location), offset)
            if total is not None and offset > total:
                response.close()
                raise exceptions.InvalidRange(
                    'Offset %d beyond the %d bytes of %s'
                    % (offset, total, url_filter.display(location)))
            chunks = _slice(chunks, offset, length)
        return (driver.ChunkIterator(chunks, response.close,
                                     seekable=not headers),
                total)

    def get_size(self, location, *, context=None):
        response = self._request('HEAD', location)
        response.close()
        size = _int_header(response, 'Content-Length')
        if size is not None:
            return size
        # No length in the HEAD answer: a one-byte range may tell.
        response = self._request('GET', location, {'Range': 'bytes=0-0'})
        response.close()
        match = _CONTENT_RANGE.match(response.getheader('Content-Range',
                                                        ''))
        if response.status == 206 and match and match.group(3) != '*':
            return int(match.group(3))
        raise exceptions.RemoteServiceUnavailable(
            '%s does not tell the size of its data'
            % url_filter.display(location))


def _vet(url):
    """``url_filter.vet_url`` for the store: a refusal is a
    ``LocationRefused``, raised before anything is sent."""
    try:
        return url_filter.vet_url(url)
    except exception.BadRequest as e:
        raise exceptions.LocationRefused(e.msg)


def _chunks(response):
    """The body of ``response`` in pieces of ``driver.CHUNK_SIZE``; a
    transfer that fails on the way raises RemoteServiceUnavailable."""
    while True:
        try:
            chunk = response.read(driver.CHUNK_SIZE)
        except exception.RequestEntityTooLarge:
            raise
        except exception.BadRequest as e:
            raise exceptions.RemoteServiceUnavailable(e.msg)
        if not chunk:
            return
        yield chunk
