"""Which URLs the service may fetch image data from.

Imports that download (web-download, glance-download, the legacy tasks
``import_from``) and the http store reading image locations hand the URL
of the user, and every redirect it leads to, to ``vet_url`` first. The
options of ``[import_filtering_opts]`` apply to both: one filter for every
URL the service fetches on a caller's behalf. The rules, in order, each
refusal a 400:

* the scheme must pass ``[import_filtering_opts]`` allowed_schemes (or,
  when that list is empty, disallowed_schemes), and only http and https
  can be fetched at all;
* the host is normalised: IPv4 literals must be the standard dotted quad
  (``2130706433``, ``127.1``, ``0x7f.0.0.1`` or ``010.0.0.1`` are
  refused rather than guessed at), IPv6 literals are canonicalised (zone
  ids refused), names are lowercased, IDNA-encoded and lose one trailing
  dot; then the host must pass allowed_hosts (or disallowed_hosts);
* the port, the default of the scheme when the URL has none, must pass
  allowed_ports (or disallowed_ports);
* names are resolved, and every address the host stands for must be a
  public unicast address: loopback, link-local (metadata services live
  at 169.254.169.254 and fd00:ec2::254), private, shared, unspecified,
  multicast and reserved addresses are refused, also when embedded in
  IPv6 (IPv4-mapped, 6to4, NAT64), unless the operator exempts them
  through allowed_internal_networks or by listing the IP address itself
  in allowed_hosts. A name in allowed_hosts exempts nothing: its record
  could be changed to point inward.

``vet_url`` is the check ``http_client`` is given for these downloads
(``check_url`` its short form for a first look): it returns the addresses
it vetted, and the client connects to those (or has its proxy connect to
them) and never resolves the name again, so an answer that changes
between the check and the connection (DNS rebinding) cannot redirect it.
``split_url`` is its first step, the parsing alone, which
``http_client.resolve_url`` shares.
"""

import collections
import ipaddress
import re
import socket
import typing
import urllib.parse

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import blocking
from glance.common import exception

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

DEFAULT_PORTS = {'http': 80, 'https': 443}
# Labels of a host that inet_aton would read as a number (decimal, octal
# or hexadecimal), e.g. "2130706433", "127.1", "0x7f.1".
_NUMERIC_LABEL = re.compile(r'(0x[0-9a-f]*|[0-9]+)$')
_NAME = re.compile(r'[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?'
                   r'(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$')
_NAT64 = ipaddress.ip_network('64:ff9b::/96')

Target = collections.namedtuple(
    'Target', 'scheme host port addresses request_target username password')
Target.__doc__ = """A URL that passed the filters.

``host`` is the normalised host (what the Host header and TLS name
carry), ``addresses`` the vetted IP addresses to connect to,
``request_target`` the path and query to ask for.
"""


def _refuse(url, reason):
    # "does not pass filtering" is the phrase clients (Tempest among them)
    # look for in upstream's refusals.
    raise exception.BadRequest('The URL %s does not pass filtering: it may '
                               'not be fetched, %s.' % (display(url), reason))


def display(url):
    """``url`` without the user name and password it may carry."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return repr(url)
    if '@' not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(
        parts._replace(netloc=parts.netloc.rpartition('@')[2]))


def _normalise(host):
    """The canonical form of a host, and whether it is an IP address.

    Raises ValueError with the reason when the host is not acceptable.
    """
    host = host.strip().lower()
    if host.startswith('[') and host.endswith(']'):
        host = host[1:-1]
    if not host:
        raise ValueError('it names no host')
    if '%' in host:
        raise ValueError('IPv6 zone ids are not accepted')
    if ':' in host:
        try:
            return str(ipaddress.IPv6Address(host)), True
        except ValueError:
            raise ValueError('%r is not a valid IPv6 address' % host)
    if host.endswith('.'):
        host = host[:-1]
    labels = host.split('.')
    if all(_NUMERIC_LABEL.match(label) for label in labels):
        try:
            return str(ipaddress.IPv4Address(host)), True
        except ValueError:
            raise ValueError('the host %r is not a standard dotted IPv4 '
                             'address' % host)
    try:
        host = host.encode('idna').decode('ascii')
    except UnicodeError:
        raise ValueError('the host %r is not a valid name' % host)
    if not _NAME.match(host):
        raise ValueError('the host %r is not a valid name' % host)
    return host, False


def _normalised_entries(entries):
    """Host list entries in the form ``_normalise`` gives hosts."""
    result = set()
    for entry in entries:
        try:
            result.add(_normalise(entry)[0])
        except ValueError:
            result.add(entry.strip().lower())
    return result


def _check_scheme(url, scheme):
    opts = CONF.import_filtering_opts
    if not scheme:
        _refuse(url, 'it has no scheme')
    allowed = [s.strip().lower() for s in opts.allowed_schemes]
    if allowed:
        if scheme not in allowed:
            _refuse(url, 'the scheme %s is not allowed' % scheme)
    elif scheme in [s.strip().lower() for s in opts.disallowed_schemes]:
        _refuse(url, 'the scheme %s is not allowed' % scheme)
    if scheme not in DEFAULT_PORTS:
        _refuse(url, 'only http and https URLs can be fetched')


def _check_host_lists(url, host):
    opts = CONF.import_filtering_opts
    if opts.allowed_hosts:
        if host not in _normalised_entries(opts.allowed_hosts):
            _refuse(url, 'the host %s is not allowed' % host)
    elif host in _normalised_entries(opts.disallowed_hosts):
        _refuse(url, 'the host %s is not allowed' % host)


def _check_port(url, port):
    opts = CONF.import_filtering_opts
    if opts.allowed_ports:
        if port not in opts.allowed_ports:
            _refuse(url, 'the port %d is not allowed' % port)
    elif port in opts.disallowed_ports:
        _refuse(url, 'the port %d is not allowed' % port)


def _embedded_ipv4(address):
    """The IPv4 address an IPv6 address carries, if any."""
    if address.version != 6:
        return None
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xffffffff)
    return None


def _kind(address):
    """What makes ``address`` unfit to fetch from, or None if public."""
    if address.is_loopback:
        return 'loopback'
    if address.is_link_local:
        return 'link-local'
    if address.is_unspecified:
        return 'unspecified'
    if address.is_multicast:
        return 'multicast'
    if address.version == 6 and address.is_site_local:
        return 'site-local'
    if address.is_reserved:
        return 'reserved'
    if address.is_private:
        return 'private'
    if not address.is_global:
        return 'non-public'
    return None


def internal_kind(address):
    """Why the ``ipaddress`` address may not be fetched from by default
    (e.g. 'loopback', 'private'), or None for a public unicast address.
    An IPv4-mapped address is judged by its IPv4 address alone; other
    IPv6 forms that embed an IPv4 address must pass on both counts."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        kind = _kind(embedded)
        if kind or address.ipv4_mapped:
            return kind
    return _kind(address)


def _exempt_networks():
    opts = CONF.import_filtering_opts
    networks = [ipaddress.ip_network(n, strict=False)
                for n in opts.allowed_internal_networks]
    for entry in opts.allowed_hosts:
        try:
            networks.append(ipaddress.ip_network(
                _normalise(entry)[0]))
        except ValueError:
            pass
    return networks


def _denied_addresses():
    opts = CONF.import_filtering_opts
    if opts.allowed_hosts:
        return set()
    denied = set()
    for entry in opts.disallowed_hosts:
        try:
            denied.add(ipaddress.ip_address(_normalise(entry)[0]))
        except ValueError:
            pass
    return denied


def _forms(address):
    """The address and the IPv4 address it embeds, if any."""
    address = ipaddress.ip_address(address.split('%')[0])
    embedded = _embedded_ipv4(address)
    return [address] if embedded is None else [address, embedded]


def _check_address(url, host, address):
    forms = _forms(address)
    if any(form in _denied_addresses() for form in forms):
        LOG.info('Refusing %s: %s resolves to %s, a disallowed host',
                 display(url), host, address)
        _refuse(url, 'the host %s is not allowed' % host)
    kind = internal_kind(forms[0])
    if kind is None:
        return
    networks = _exempt_networks()
    if any(form in net for form in forms for net in networks
           if form.version == net.version):
        return
    LOG.info('Refusing %s: %s is a %s address', display(url), address, kind)
    what = 'is' if address == host else 'resolves to'
    article = 'an' if kind[0] in 'aeiou' else 'a'
    _refuse(url, 'the host %s %s %s %s address, which is not allowed '
                 '(see [import_filtering_opts] allowed_internal_networks)'
            % (host, what, article, kind))


def resolve(host, port):
    """Every IPv4 and IPv6 address of ``host``, in resolver order. The
    system resolver runs in a real thread: a slow DNS server must not
    hold up the other requests of the worker."""
    lookup = socket.getaddrinfo
    args = (host, port, 0, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    if getattr(lookup, '__module__', '').startswith('eventlet'):
        infos = lookup(*args)    # eventlet's green resolver: no thread needed
    else:
        infos = blocking.call(lookup, *args)
    addresses = []
    for family, _type, _proto, _name, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            if sockaddr[0] not in addresses:
                addresses.append(sockaddr[0])
    return addresses


class URLParts(typing.NamedTuple):
    """What ``split_url`` reads from a URL, nothing of it checked yet."""

    scheme: str
    """Lowercased; may be any scheme, or empty."""
    host: typing.Optional[str]
    """Lowercased, without the brackets of an IPv6 literal; None when the
    URL names no host."""
    port: typing.Optional[int]
    """None when the URL gives none."""
    request_target: str
    """The path (``/`` when empty) and the query."""
    username: typing.Optional[str]
    """Percent-decoded; None when the URL carries no userinfo."""
    password: typing.Optional[str]
    """Percent-decoded; None when the userinfo has no password."""


def split_url(url: str) -> URLParts:
    """The parts of ``url`` a client needs to fetch it.

    Raises ``exception.BadRequest`` when ``url`` is no string, is empty,
    holds spaces or control characters, or cannot be parsed (an IPv6
    literal or a port that is not valid, for instance).
    """
    if not isinstance(url, str) or not url:
        raise exception.BadRequest('A URL to fetch is required.')
    if any(ord(c) <= 32 or ord(c) == 127 for c in url):
        _refuse(url, 'it contains spaces or control characters')
    try:
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.lower()
        host = parts.hostname
        port = parts.port
        username, password = parts.username, parts.password
    except ValueError as e:
        _refuse(url, 'it is malformed (%s)' % e)
    request_target = parts.path or '/'
    if parts.query:
        request_target += '?' + parts.query
    return URLParts(
        scheme, host, port, request_target,
        None if username is None else urllib.parse.unquote(username),
        None if password is None else urllib.parse.unquote(password))


def vet_url(url):
    """The ``Target`` of ``url`` once it passed every filter.

    Raises ``exception.BadRequest`` saying why it did not.
    """
    parts = split_url(url)
    scheme, port = parts.scheme, parts.port
    _check_scheme(url, scheme)
    try:
        host, literal = _normalise(parts.host or '')
    except ValueError as e:
        _refuse(url, str(e))
    _check_host_lists(url, host)
    if port is None:
        port = DEFAULT_PORTS[scheme]
    if not 0 < port < 65536:
        _refuse(url, 'the port %d is not valid' % port)
    _check_port(url, port)
    if literal:
        addresses = [host]
    else:
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError) as e:
            LOG.info('Cannot resolve %s: %s', host, e)
            addresses = []
        if not addresses:
            _refuse(url, 'the host %s cannot be resolved' % host)
    for address in addresses:
        _check_address(url, host, address)
    return Target(scheme, host, port, addresses, parts.request_target,
                  parts.username, parts.password)


def check_url(url):
    """Vet ``url`` for fetching; the list of IP addresses (strings) it may
    be fetched from. Raises ``exception.BadRequest`` with the reason when
    it may not be fetched."""
    return vet_url(url).addresses
