"""Outbound HTTP(S) requests of the service.

Every request the service itself makes over HTTP goes through ``request``
(``open_url`` is its GET that wants a 2xx): web-download, glance-download
the replay of an import on the API node holding the staged data, and the
reads of the ``http`` store from image locations.

Which destinations are acceptable is a parameter, ``check``: a callable
that takes a URL and returns its ``url_filter.Target`` (scheme, host,
port, the resolved addresses to connect to, request target, userinfo) or
raises. Imports and the http store pass ``url_filter.vet_url`` (the
default), which refuses internal addresses; the import replay passes
``resolve_url``, which only
parses and resolves, since the peer it reaches is configured by the
operator. Every redirect is checked again, ``MAX_REDIRECTS`` at most. The
client connects to one of the addresses the check returned and never
resolves the name again, so an answer that changes between the check and
the connection (DNS rebinding) cannot send it elsewhere. The URL's host
goes in the Host header and, for https, is the TLS server name the
certificate is verified against.

Proxies come from the environment, read at each request as the standard
library reads them (``HTTP_PROXY``, ``HTTPS_PROXY``, ``NO_PROXY`` and
their lowercase forms, which win), unless the caller names a proxy for
the scheme (``proxies``, as the http store's ``http_proxy_information``
does): that one is used for every host. The check still applies to the final
destination, and the proxy is told to reach the vetted address, never the
name, so its own resolver cannot lead anywhere unvetted: https goes
through ``CONNECT <address>:<port>`` and TLS is then spoken to the origin
through the tunnel, verified against the URL's host; plain http asks the
proxy for ``http://<address>:<port><path>`` with the URL's host in the
Host header (a proxy that rewrites Host from the request target then
shows the address to the origin). Credentials in the proxy URL go to the
proxy as Proxy-Authorization, never to the origin. Hosts that ``NO_PROXY``
names are reached directly. Only ``http://`` proxies are supported.

The standard library does the work (``http.client``, ``ssl``,
``socket``), so under the eventlet daemon every wait is green, and names
are resolved in a real thread (``url_filter.resolve``).

``timeout`` bounds the connection (unless ``connect_timeout`` does) and
each wait for data, not the whole transfer, so large images download at
any speed that keeps data flowing.
Failures are ``exception.BadRequest``: ``Unreachable`` when the
destination (or the proxy) cannot be reached or stops answering,
``BadAnswer`` when what comes back is not valid HTTP.
"""

import base64
import collections
import http.client
import ipaddress
import socket
import ssl
import typing
import urllib.parse
import urllib.request

from glance import version
from glance.common import exception
from glance.common import url_filter

MAX_REDIRECTS = 5
TIMEOUT = 60
REDIRECT_STATUSES = frozenset([301, 302, 303, 307, 308])
USER_AGENT = 'glance/%s' % version.VERSION
_READ_ALL_CHUNK = 65536
_MAX_LINE = 65536     # bytes of one line of a proxy's CONNECT answer
_MAX_HEADERS = 100    # header lines of a proxy's CONNECT answer

Check = typing.Callable[[str], url_filter.Target]


class Unreachable(exception.BadRequest):
    """The destination, or the proxy before it, could not be reached, or
    the connection failed or went silent."""


class BadAnswer(exception.BadRequest):
    """The destination answered something that is not valid HTTP."""


_Proxy = collections.namedtuple('_Proxy', 'host port authorization')
_Proxy.__doc__ = """An http:// proxy from the environment: where it
listens and the Proxy-Authorization value (None without credentials)."""


class _TunnelRefused(OSError):
    """The proxy answered CONNECT with something other than a 2xx."""


def _fail(url, what, cls=exception.BadRequest):
    raise cls('Cannot fetch %s: %s.' % (url_filter.display(url), what))


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


def _fail_on(url, error, timeout):
    """Raise the failure ``error`` (an OSError or HTTPException) stands
    for: BadAnswer for invalid HTTP, Unreachable for the rest."""
    cls = (BadAnswer if isinstance(error, http.client.HTTPException)
           and not isinstance(error, OSError) else Unreachable)
    _fail(url, _describe(error, timeout), cls)


def _ascii_target(target):
    """The request target with non-ASCII characters percent-encoded."""
    return ''.join(c if ord(c) < 128 else urllib.parse.quote(c)
                   for c in target)


def _is_ip(host):
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _authority(host, port):
    """``host:port`` with an IPv6 address in brackets."""
    if ':' in host:
        return '[%s]:%d' % (host, port)
    return '%s:%d' % (host, port)


def _host_header(target):
    """The Host header of ``target``: its host (IDNA-encoded, brackets
    around IPv6) and the port unless it is the scheme's default."""
    host = target.host
    if not host.isascii():
        host = host.encode('idna').decode('ascii')
    if target.port == url_filter.DEFAULT_PORTS[target.scheme]:
        return '[%s]' % host if ':' in host else host
    return _authority(host, target.port)


def _basic(username, password):
    pair = '%s:%s' % (username, password or '')
    return 'Basic ' + base64.b64encode(pair.encode('utf-8')).decode('ascii')


def _basic_auth(target):
    if target.username is None:
        return None
    return _basic(target.username, target.password)


def _origin(target):
    return target.scheme, target.host, target.port


def resolve_url(url: str) -> url_filter.Target:
    """A ``check`` that vets nothing: the ``Target`` of an http(s) URL
    with its host's addresses, for peers the operator configured (an
    internal address is what they are expected to have). Raises
    ``exception.BadRequest`` when the URL is not one to fetch and
    ``Unreachable`` when its host cannot be resolved."""
    parts = url_filter.split_url(url)
    scheme, host = parts.scheme, parts.host
    if scheme not in url_filter.DEFAULT_PORTS:
        _fail(url, 'only http and https URLs can be fetched')
    if not host:
        _fail(url, 'the URL names no host')
    port = parts.port or url_filter.DEFAULT_PORTS[scheme]
    if _is_ip(host):
        addresses = [str(ipaddress.ip_address(host))]
    else:
        try:
            addresses = url_filter.resolve(host, port)
        except (OSError, UnicodeError) as e:
            _fail(url, 'the host %s cannot be resolved (%s)' % (host, e),
                  Unreachable)
        if not addresses:
            _fail(url, 'the host %s cannot be resolved' % host, Unreachable)
    return url_filter.Target(scheme, host, port, addresses,
                             parts.request_target, parts.username,
                             parts.password)


def _bypassed(target, proxies):
    """Whether NO_PROXY names the host of ``target``."""
    bypass = urllib.request.proxy_bypass_environment
    if ':' in target.host:    # an IPv6 address, compared as written
        return bool(bypass(target.host, proxies)
                    or bypass(_authority(target.host, target.port), proxies))
    return bool(bypass(_authority(target.host, target.port), proxies))


def _proxy_for(url, target, chosen=None):
    """The proxy for ``target``: the one ``chosen`` names for its scheme,
    else the one of the environment; None to connect directly."""
    setting = (chosen or {}).get(target.scheme)
    if not setting:
        proxies = urllib.request.getproxies_environment()
        setting = proxies.get(target.scheme)
        if not setting or _bypassed(target, proxies):
            return None
    if '://' not in setting:
        setting = 'http://' + setting
    try:
        parts = urllib.parse.urlsplit(setting)
        host, port = parts.hostname, parts.port or 80
        username, password = parts.username, parts.password
    except ValueError:
        host = None
    if not host:
        # Not shown: a malformed setting may hide credentials.
        _fail(url, 'the %s proxy setting of the environment is not valid'
              % target.scheme)
    if parts.scheme.lower() != 'http':
        _fail(url, 'the %s proxy %s is not an http:// proxy'
              % (target.scheme, url_filter.display(setting)))
    authorization = None
    if username is not None:
        authorization = _basic(urllib.parse.unquote(username),
                               urllib.parse.unquote(password or ''))
    return _Proxy(host.lower(), port, authorization)


def _connect_any(addresses, port, timeout, connect_timeout=None):
    """A socket connected to the first of ``addresses`` that answers
    within ``connect_timeout`` (``timeout`` when None), then waiting
    ``timeout`` for data; raises the last OSError when none does."""
    error = OSError('no address to connect to')
    for address in addresses:
        try:
            sock = socket.create_connection(
                (address, port), timeout=connect_timeout or timeout)
        except OSError as e:
            error = e
            continue
        sock.settimeout(timeout)
        # Headers and body go in separate writes: no Nagle delay between.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise error


def _connect_proxy(url, proxy, timeout, connect_timeout=None):
    where = _authority(proxy.host, proxy.port)
    if _is_ip(proxy.host):
        addresses = [proxy.host]
    else:
        try:
            addresses = url_filter.resolve(proxy.host, proxy.port)
        except (OSError, UnicodeError) as e:
            _fail(url, 'the proxy %s cannot be resolved (%s)' % (where, e),
                  Unreachable)
    try:
        return _connect_any(addresses, proxy.port, timeout, connect_timeout)
    except OSError as e:
        _fail(url, 'the proxy %s cannot be reached (%s)'
              % (where, _describe(e, connect_timeout or timeout)),
              Unreachable)


def _read_line(raw):
    line = raw.readline(_MAX_LINE + 1)
    if len(line) > _MAX_LINE:
        raise http.client.LineTooLong('CONNECT answer line')
    if not line:
        raise http.client.RemoteDisconnected(
            'the proxy closed the connection')
    return line


def _tunnel(sock, proxy, address, port):
    """Ask the proxy on ``sock`` for a tunnel to ``address``:``port``.

    The answer is read a byte at a time so that nothing the origin sends
    through the tunnel is consumed with it.
    """
    authority = _authority(address, port)
    lines = ['CONNECT %s HTTP/1.1' % authority, 'Host: %s' % authority,
             'User-Agent: %s' % USER_AGENT]
    if proxy.authorization:
        lines.append('Proxy-Authorization: %s' % proxy.authorization)
    sock.sendall(('\r\n'.join(lines) + '\r\n\r\n').encode('ascii'))
    raw = sock.makefile('rb', buffering=0)
    try:
        status_line = _read_line(raw).decode('iso-8859-1').strip()
        version, _, rest = status_line.partition(' ')
        code, _, reason = rest.partition(' ')
        if not version.startswith('HTTP/') or not code.isdigit():
            raise http.client.BadStatusLine(status_line)
        for _ in range(_MAX_HEADERS + 1):
            if _read_line(raw) in (b'\r\n', b'\n'):
                break
        else:
            raise http.client.HTTPException('too many headers in the '
                                            'CONNECT answer')
    finally:
        raw.close()
    if not 200 <= int(code) < 300:
        raise _TunnelRefused('the proxy %s refused to connect to %s (%s %s)'
                             % (_authority(proxy.host, proxy.port),
                                authority, code, reason))


class _Connection(http.client.HTTPConnection):
    """An HTTP exchange over a socket that is already connected (to the
    origin, a proxy, or a tunnel through one); it never reconnects."""

    def __init__(self, sock, timeout):
        super().__init__('connected.invalid', timeout=timeout)
        self.sock = sock

    def connect(self):
        raise http.client.NotConnected('the connection is closed')


def _open(url, target, proxy, timeout, ssl_context, connect_timeout=None):
    """A connection to one vetted address of ``target`` (the next one
    when a connection fails), directly or through ``proxy``, and that
    address. Through a proxy, plain http names the first address only:
    the proxy makes that connection, and its failure is the answer."""
    error = OSError('no address to connect to')
    addresses = target.addresses
    if proxy is not None and target.scheme == 'http':
        addresses = addresses[:1]
    for address in addresses:
        sock = None
        try:
            if proxy is None:
                sock = _connect_any([address], target.port, timeout,
                                    connect_timeout)
            else:
                sock = _connect_proxy(url, proxy, timeout, connect_timeout)
                if target.scheme == 'https':
                    _tunnel(sock, proxy, address, target.port)
            if target.scheme == 'https':
                context = ssl_context or ssl.create_default_context()
                sock = context.wrap_socket(sock, server_hostname=target.host)
            return _Connection(sock, timeout), address
        except (OSError, http.client.HTTPException) as e:
            if sock is not None:
                sock.close()
            error = e
    if isinstance(error, _TunnelRefused):
        _fail(url, str(error), Unreachable)
    if isinstance(error, http.client.HTTPException) and proxy is not None:
        _fail(url, 'the proxy %s answered CONNECT badly (%s)'
              % (_authority(proxy.host, proxy.port),
                 _describe(error, timeout)), BadAnswer)
    _fail_on(url, error, timeout)


def _send(url, target, method, body, auth, timeout, ssl_context, headers,
          proxies=None, connect_timeout=None):
    """Send one request to ``target``; the connection and response."""
    proxy = _proxy_for(url, target, proxies)
    conn, address = _open(url, target, proxy, timeout, ssl_context,
                          connect_timeout)
    request_target = _ascii_target(target.request_target)
    via_proxy = proxy is not None and target.scheme == 'http'
    if via_proxy:
        request_target = 'http://%s%s' % (_authority(address, target.port),
                                          request_target)
    try:
        conn.putrequest(method, request_target, skip_host=True,
                        skip_accept_encoding=True)
        conn.putheader('Host', _host_header(target))
        conn.putheader('Accept-Encoding', 'identity')
        conn.putheader('User-Agent', USER_AGENT)
        if via_proxy and proxy.authorization:
            conn.putheader('Proxy-Authorization', proxy.authorization)
        if auth:
            conn.putheader('Authorization', auth)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        if body is not None:
            conn.putheader('Content-Length', str(len(body)))
        conn.endheaders(body)
        return conn, conn.getresponse()
    except (OSError, http.client.HTTPException) as e:
        conn.close()
        _fail_on(url, e, timeout)


class Response:
    """An answer, its body read with ``read``.

    ``status`` and ``reason`` are the answer's status line, ``size`` the
    Content-Length (None when the server sends none), ``url`` the URL
    that answered (after redirects).
    """

    def __init__(self, conn, response, url, max_size, timeout):
        self._conn = conn
        self._response = response
        self.url = url
        self.status = response.status
        self.reason = response.reason
        self._headers = response.headers
        self.size = response.length
        self.max_size = max_size
        self.timeout = timeout
        self.received = 0

    def getheader(self, name: str,
                  default: typing.Optional[str] = None
                  ) -> typing.Optional[str]:
        """The value of the header ``name`` of the answer."""
        return self._headers.get(name, default)

    def _too_large(self):
        self.close()
        raise exception.RequestEntityTooLarge(
            'The data at %s is larger than the limit of %d bytes.'
            % (url_filter.display(self.url), self.max_size))

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all of them when ``n`` is negative); b''
        at the end. Raises ``exception.RequestEntityTooLarge`` once more
        than ``max_size`` bytes have arrived, ``exception.BadRequest``
        (``Unreachable``, ``BadAnswer``) when the transfer fails or stops
        short of the Content-Length."""
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
            _fail_on(self.url, e, self.timeout)
        self.received += len(data)
        if self.max_size is not None and self.received > self.max_size:
            self._too_large()
        if not data:
            self.close()
            if self.size is not None and self.received < self.size:
                _fail(self.url, 'the connection closed after %d of %d bytes'
                      % (self.received, self.size), BadAnswer)
        return data

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
            self._conn.close()
            self._response = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def request(method: str, url: str, *, check: Check = url_filter.vet_url,
            body: typing.Optional[bytes] = None,
            headers: typing.Optional[typing.Mapping[str, str]] = None,
            max_size: typing.Optional[int] = None, timeout: float = TIMEOUT,
            max_redirects: int = MAX_REDIRECTS,
            follow_redirects: bool = True, require_success: bool = True,
            ssl_context: typing.Optional[ssl.SSLContext] = None,
            proxies: typing.Optional[typing.Mapping[str, str]] = None,
            connect_timeout: typing.Optional[float] = None
            ) -> Response:
    """Send ``method`` to ``url``; the ``Response`` to read the body from.

    ``check`` vets ``url`` and every redirect (see the module docstring);
    ``body`` is sent with its Content-Length; ``headers`` go to the
    origin of ``url`` only (a token never follows a redirect elsewhere);
    ``max_size`` is the largest body accepted, in bytes (None: no limit);
    ``timeout`` the seconds a connection or any wait for data may take,
    ``connect_timeout`` (when given) those of a connection;
    ``ssl_context`` replaces the default one (system CAs, hostname
    checked); ``proxies`` maps schemes to the proxy to use for them
    instead of the environment's (see the module docstring). Redirects
    are followed unless ``follow_redirects`` is false (a 303, and a 301
    or 302 of anything but GET, continue as a GET without the body).
    With ``require_success`` an answer that is not a 2xx is a failure;
    without it, any answer is returned.

    Raises ``exception.BadRequest`` when the URL or a redirect does not
    pass ``check``, on network, proxy, TLS and timeout failures, on
    refused answers and on too many redirects, and
    ``exception.RequestEntityTooLarge`` when the Content-Length exceeds
    ``max_size``.
    """
    seen = []
    auth = None
    previous = None
    first = None
    while True:
        target = check(url)
        first = first or _origin(target)
        if target.username is not None:
            auth = _basic_auth(target)
        elif previous is None or _origin(previous) != _origin(target):
            auth = None
        extra = headers if _origin(target) == first else None
        conn, response = _send(url, target, method, body, auth, timeout,
                               ssl_context, extra, proxies, connect_timeout)
        status = response.status
        if not follow_redirects or status not in REDIRECT_STATUSES:
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
        if status == 303 or (status in (301, 302) and method != 'GET'):
            method, body = 'GET', None
        previous = target
    if require_success and not 200 <= status < 300:
        response.close()
        conn.close()
        _fail(url, 'the server answered %d %s' % (status, response.reason))
    answer = Response(conn, response, url, max_size, timeout)
    if (max_size is not None and answer.size is not None
            and answer.size > max_size):
        answer._too_large()
    return answer


def open_url(url: str, max_size: typing.Optional[int],
             timeout: float = TIMEOUT, max_redirects: int = MAX_REDIRECTS,
             ssl_context: typing.Optional[ssl.SSLContext] = None,
             headers: typing.Optional[typing.Mapping[str, str]] = None,
             check: Check = url_filter.vet_url) -> Response:
    """Start downloading ``url`` (a GET that must answer 2xx); the
    ``Response`` to read the body from. The arguments are those of
    ``request``."""
    return request('GET', url, check=check, headers=headers,
                   max_size=max_size, timeout=timeout,
                   max_redirects=max_redirects, ssl_context=ssl_context)
