"""The read-only HTTP store: image data that lives on a web server.

Locations are the server's own ``http://`` or ``https://`` URLs (with
optional ``user:password@``). Reads stream with requests; redirects are
followed, five at most. A read at an offset asks for a ``Range``: when the
server answers 206 the returned iterator is ``seekable``; when it ignores
the header (200) the bytes before the offset are read and dropped, so the
caller gets the same bytes either way, only slower. That is why the store
does not claim the SEEK capability: it cannot promise it for every server.
"""

import logging
import re

import requests
from oslo_config import cfg

from glance.store import driver
from glance.store import exceptions

LOG = logging.getLogger(__name__)

MAX_REDIRECTS = 5
# (connect, read) seconds. The read timeout is per socket read, not per
# transfer, so it does not limit the size of what can be downloaded.
TIMEOUT = (30, 300)

_CONTENT_RANGE = re.compile(r'bytes (\d+)-(\d+)/(\d+|\*)$')


def _int_header(response, name):
    value = response.headers.get(name, '').strip()
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
        session = requests.Session()
        session.max_redirects = MAX_REDIRECTS
        # Byte ranges and Content-Length must refer to the stored bytes.
        session.headers['Accept-Encoding'] = 'identity'
        self.session = session
        # Passed with each request, not set on the session: requests lets
        # REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE and *_proxy variables of the
        # environment override session-level settings, which would
        # silently defeat https_insecure and http_proxy_information.
        if opts.https_insecure:
            self.verify = False
        else:
            self.verify = opts.https_ca_certificates_file or True
        self.proxies = dict(opts.http_proxy_information or {})

    def properties(self):
        return {}

    def _request(self, method, location, headers=None):
        parts = requests.utils.urlparse(location)
        if parts.scheme.lower() not in self.schemes or not parts.netloc:
            raise exceptions.BadStoreUri('Not an HTTP location: %s'
                                         % location)
        try:
            response = self.session.request(
                method, location, headers=headers, stream=True,
                allow_redirects=True, timeout=TIMEOUT, verify=self.verify,
                proxies=self.proxies)
        except requests.TooManyRedirects:
            raise exceptions.BadStoreUri(
                'More than %d redirects from %s' % (MAX_REDIRECTS,
                                                    location))
        except (requests.exceptions.InvalidURL,
                requests.exceptions.InvalidSchema,
                requests.exceptions.MissingSchema) as e:
            raise exceptions.BadStoreUri('Bad location %s: %s'
                                         % (location, e))
        except requests.RequestException as e:
            raise exceptions.RemoteServiceUnavailable(
                'Cannot read %s: %s' % (location, e))
        if response.status_code < 300:
            return response
        response.close()
        status = response.status_code
        what = '%s %s returned %d' % (method, location, status)
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
        chunks = response.iter_content(driver.CHUNK_SIZE)
        if response.status_code == 206:
            match = _CONTENT_RANGE.match(
                response.headers.get('Content-Range', ''))
            if not match or int(match.group(1)) != offset:
                response.close()
                raise exceptions.RemoteServiceUnavailable(
                    'Unexpected Content-Range from %s' % location)
            total = match.group(3)
            total = int(total) if total.isdigit() else None
            return (driver.ChunkIterator(_slice(chunks, 0, length),
                                         response.close, seekable=True),
                    total)
        total = _int_header(response, 'Content-Length')
        if headers:
            LOG.debug('%s ignored the Range header; skipping %d bytes',
                      location, offset)
            if total is not None and offset > total:
                response.close()
                raise exceptions.InvalidRange(
                    'Offset %d beyond the %d bytes of %s'
                    % (offset, total, location))
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
        match = _CONTENT_RANGE.match(response.headers.get('Content-Range',
                                                          ''))
        if response.status_code == 206 and match and match.group(3) != '*':
            return int(match.group(3))
        raise exceptions.RemoteServiceUnavailable(
            '%s does not tell the size of its data' % location)
