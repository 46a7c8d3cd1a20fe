"""Downloading image data from a URL that passed the import filters.

``open_url`` vets the URL with ``url_filter``, connects to one of the
addresses the filter vetted (never resolving the name a second time),
sends the URL's host in the Host header and, for https, as the TLS server
name the certificate is verified against. Redirects are followed, each
hop vetted again, ``MAX_REDIRECTS`` at most. The answer must be a 2xx.

The standard library does the work (``http.client``, ``ssl``,
``socket``), so under the eventlet daemon every wait is green. Proxy
settings of the environment are not used: a proxy would connect to
addresses nobody vetted.

``timeout`` bounds the connection and each wait for data, not the whole
transfer, so large images download at any speed that keeps data flowing.
"""

import base64
import http.client
import socket
import ssl
import urllib.parse

from glance import version
from glance.common import exception
from glance.common import url_filter

MAX_REDIRECTS = 5
TIMEOUT = 60
REDIRECT_STATUSES = frozenset([301, 302, 303, 307, 308])
USER_AGENT = 'glance/%s' % version.VERSION
_READ_ALL_CHUNK = 65536


def _connect(address, port, timeout):
    return socket.create_connection((address, port), timeout=timeout)


class _Connection(http.client.HTTPConnection):
    """HTTP to one vetted address; Host names the URL's host."""

    def __init__(self, host, port, address, timeout, context=None):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = _connect(self.address, self.port, self.timeout)


class _TLSConnection(http.client.HTTPSConnection):
    """HTTPS to one vetted address, verified against the URL's host."""

    def __init__(self, host, port, address, timeout, context=None):
        super().__init__(host, port, timeout=timeout,
                         context=context or ssl.create_default_context())
        self.address = address

    def connect(self):
        sock = _connect(self.address, self.port, self.timeout)
        try:
            self.sock = self._context.wrap_socket(sock,
                                                  server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def _fail(url, what):
    raise exception.BadRequest('Cannot fetch %s: %s.'
                               % (url_filter.display(url), what))


def _describe(error, timeout):
    if isinstance(error, (socket.timeout, TimeoutError)):
        return 'no answer within %s seconds' % timeout
    if isinstance(error, ssl.SSLCertVerificationError):
        return 'its certificate cannot be verified (%s)' % (
            error.verify_message or error)
    if isinstance(error, http.client.HTTPException):
        return 'invalid HTTP response (%s)' % (
            type(error).__name__ if not str(error) else error)
    return str(error) or type(error).__name__


def _ascii_target(target):
    """The request target with non-ASCII characters percent-encoded."""
    return ''.join(c if ord(c) < 128 else urllib.parse.quote(c)
                   for c in target)


def _request(url, target, auth, timeout, ssl_context, headers=None):
    """Connect to a vetted address of ``target`` (the next one when a
    connection fails) and send the GET; the connection and response."""
    cls = _TLSConnection if target.scheme == 'https' else _Connection
    conn = error = None
    for address in target.addresses:
        conn = cls(target.host, target.port, address, timeout, ssl_context)
        try:
            conn.connect()
            break
        except OSError as e:
            conn.close()
            conn, error = None, e
    if conn is None:
        _fail(url, _describe(error, timeout))
    try:
        conn.putrequest('GET', _ascii_target(target.request_target),
                        skip_accept_encoding=True)
        conn.putheader('Accept-Encoding', 'identity')
        conn.putheader('User-Agent', USER_AGENT)
        if auth:
            conn.putheader('Authorization', auth)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders()
        return conn, conn.getresponse()
    except (OSError, http.client.HTTPException) as e:
        conn.close()
        _fail(url, _describe(e, timeout))


def _basic_auth(target):
    if target.username is None:
        return None
    pair = '%s:%s' % (target.username, target.password or '')
    return 'Basic ' + base64.b64encode(pair.encode('utf-8')).decode('ascii')


def _origin(target):
    return target.scheme, target.host, target.port


class Download:
    """The body of a successful answer, read with ``read``.

    ``size`` is the Content-Length (None when the server sends none),
    ``url`` the URL that answered (after redirects).
    """

    def __init__(self, conn, response, url, max_size, timeout):
        self._conn = conn
        self._response = response
        self.url = url
        self.size = response.length
        self.max_size = max_size
        self.timeout = timeout
        self.received = 0

    def _too_large(self):
        self.close()
        raise exception.RequestEntityTooLarge(
            'The data at %s is larger than the limit of %d bytes.'
            % (url_filter.display(self.url), self.max_size))

    def read(self, n=-1):
        """Up to ``n`` bytes (all of them when ``n`` is negative); b''
        at the end. Raises ``exception.RequestEntityTooLarge`` once more
        than ``max_size`` bytes have arrived, ``exception.BadRequest``
        when the transfer fails or stops short of the Content-Length."""
        if n is None or n < 0:
            chunks = []
            while True:
                chunk = self.read(_READ_ALL_CHUNK)
                if not chunk:
                    return b''.join(chunks)
                chunks.append(chunk)
        if self._response is None or n == 0:
            return b''
        if self.max_size is not None:
            # One byte past the limit is enough to know it is exceeded.
            n = min(n, self.max_size - self.received + 1)
        try:
            data = self._response.read(n)
        except (OSError, http.client.HTTPException) as e:
            self.close()
            _fail(self.url, _describe(e, self.timeout))
        self.received += len(data)
        if self.max_size is not None and self.received > self.max_size:
            self._too_large()
        if not data:
            self.close()
            if self.size is not None and self.received < self.size:
                _fail(self.url, 'the connection closed after %d of %d bytes'
                      % (self.received, self.size))
        return data

    def close(self):
        if self._response is not None:
            self._response.close()
            self._conn.close()
            self._response = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def open_url(url, max_size, timeout=TIMEOUT, max_redirects=MAX_REDIRECTS,
             ssl_context=None, headers=None):
    """Start downloading ``url``; a ``Download`` to read the body from.

    ``max_size`` is the largest body accepted, in bytes (None: no limit);
    ``timeout`` the seconds a connection or any wait for data may take;
    ``ssl_context`` replaces the default one (system CAs, hostname
    checked); ``headers`` are sent to the origin of ``url`` only (a token
    never follows a redirect elsewhere). Raises ``exception.BadRequest`` when the URL or a redirect
    does not pass ``url_filter``, on network, TLS and timeout failures,
    on non-2xx answers and on too many redirects, and
    ``exception.RequestEntityTooLarge`` when the Content-Length exceeds
    ``max_size``.
    """
    seen = []
    auth = None
    previous = None
    first = None
    while True:
        target = url_filter.vet_url(url)
        first = first or _origin(target)
        if target.username is not None:
            auth = _basic_auth(target)
        elif previous is None or _origin(previous) != _origin(target):
            auth = None
        extra = headers if _origin(target) == first else None
        conn, response = _request(url, target, auth, timeout, ssl_context,
                                  extra)
        status = response.status
        if status not in REDIRECT_STATUSES:
            break
        location = response.getheader('Location')
        response.close()
        conn.close()
        if not location:
            _fail(url, 'a %d redirect without a Location' % status)
        seen.append(url)
        try:
            url = urllib.parse.urljoin(url, location.strip())
        except ValueError:
            _fail(seen[-1], 'an invalid redirect to %r' % location)
        if url in seen:
            _fail(seen[0], 'the redirects loop back to %s'
                  % url_filter.display(url))
        if len(seen) > max_redirects:
            _fail(seen[0], 'more than %d redirects' % max_redirects)
        previous = target
    if not 200 <= status < 300:
        response.close()
        conn.close()
        _fail(url, 'the server answered %d %s' % (status, response.reason))
    download = Download(conn, response, url, max_size, timeout)
    if (max_size is not None and download.size is not None
            and download.size > max_size):
        download._too_large()
    return download
