"""TLS for the eventlet daemon (``cert_file``, ``key_file``, ``ca_file``).

The listening socket stays a plain TCP socket, so the accept loop and its
balancing between workers never wait on a client. Each accepted
connection is wrapped and its handshake done in the green thread that
serves it, bounded by ``client_socket_timeout``: a slow or silent client
holds only its own green thread. A client that fails the handshake (plain
HTTP on the TLS port, a missing or untrusted client certificate) is logged
and disconnected. The context is built when the configuration is (re)loaded
and shared by every connection.
"""

import os
import socket
import ssl

import eventlet.wsgi
from eventlet.green import ssl as green_ssl
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import sendfile

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def _refuse_password():
    raise RuntimeError('key_file is encrypted; give the server an '
                       'unencrypted private key')


def _check_file(option, path):
    if not os.path.isfile(path):
        raise RuntimeError('Unable to find %s: %s' % (option, path))
    if not os.access(path, os.R_OK):
        raise RuntimeError('Cannot read %s: %s' % (option, path))


def load_context(conf=CONF):
    """The server's SSLContext, or None when TLS is not configured.

    Raises RuntimeError, with the option and file at fault, when the files
    are missing, unreadable or do not hold a usable certificate and key.
    """
    cert, key, ca = conf.cert_file, conf.key_file, conf.ca_file
    if not (cert or key or ca):
        return None
    if not (cert and key):
        raise RuntimeError('TLS needs both cert_file and key_file (ca_file '
                           'only adds client certificates)')
    for option, path in (('cert_file', cert), ('key_file', key),
                         ('ca_file', ca)):
        if path:
            _check_file(option, path)
    # Green: handshakes, reads and writes yield to the hub.
    context = green_ssl.GreenSSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key, password=_refuse_password)
    except (ssl.SSLError, OSError) as e:
        raise RuntimeError('cert_file %s and key_file %s are not a usable '
                           'PEM certificate and matching private key: %s'
                           % (cert, key, e))
    if ca:
        try:
            context.load_verify_locations(cafile=ca)
        except (ssl.SSLError, OSError) as e:
            raise RuntimeError('ca_file %s holds no usable PEM CA '
                               'certificate: %s' % (ca, e))
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def handshake(context, conn):
    """Put TLS on the client socket of ``conn`` ([address, socket, ...]).

    The wrapped socket replaces the plain one in ``conn``, so whoever
    closes or drains the connection acts on it. Returns False, after
    logging why, when the handshake fails or times out.
    """
    address, plain = conn[0], conn[1]
    try:
        secure = context.wrap_socket(plain, server_side=True,
                                     do_handshake_on_connect=False)
    except OSError as e:
        LOG.info('Connection from %s lost before TLS: %s', address, e)
        return False
    conn[1] = secure
    try:
        secure.do_handshake()
    except socket.timeout:
        LOG.info('TLS handshake with %s timed out', address)
        return False
    except (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionError) as e:
        # Port probes and health checks of load balancers connect and
        # close without a word: not worth more than a debug line.
        LOG.debug('Connection from %s closed during the TLS handshake: '
                  '%s', address, e)
        return False
    except (ssl.SSLError, OSError) as e:
        LOG.info('TLS handshake with %s failed: %s', address, e)
        return False
    return True


def connection_handler(serv, get_context):
    """What serves an accepted connection: ``serv.process_request`` when
    ``get_context()`` is None, else the handshake first."""

    def serve_tls(conn):
        context = get_context()
        if context is None:
            return serv.process_request(conn)
        if not handshake(context, conn):
            return
        try:
            serv.process_request(conn)
        except ssl.SSLError as e:
            LOG.info('TLS connection with %s ended: %s', conn[0], e)

    return serve_tls


class HttpProtocol(eventlet.wsgi.HttpProtocol):
    """eventlet's protocol, telling the application which requests came
    over TLS (``wsgi.url_scheme`` https), so the URLs it builds (the
    versions document, absolute ``Location`` headers) name https. Over
    plain TCP it hands the client socket to downloads instead, for
    ``os.sendfile`` (``glance.common.sendfile``)."""

    def get_environ(self):
        environ = super().get_environ()
        if isinstance(self.connection, ssl.SSLSocket):
            environ['wsgi.url_scheme'] = 'https'
            environ['HTTPS'] = 'on'
        else:
            environ[sendfile.SOCKET_KEY] = self.connection
        return environ
