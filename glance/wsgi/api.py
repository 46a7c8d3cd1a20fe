"""The WSGI application, for uWSGI, gunicorn or mod_wsgi.

Configuration is read from ``$OS_GLANCE_CONFIG_DIR`` (default
``/etc/glance``): ``glance-image-import.conf`` when it exists, then
``glance-api.conf`` (which wins), and its paste file.

A request body sent with ``Transfer-Encoding: chunked`` (an upload whose
size the client does not know) needs the server to decode it. gunicorn,
and mod_wsgi with ``WSGIChunkedRequest On``, hand the application the
decoded body and say so (``wsgi.input_terminated``). uWSGI 2.0 hands it no
body at all but offers ``uwsgi.chunked_read()``, which is used here. Under
a server that does neither, such a request is refused (411) rather than
taken for an empty body. Under uWSGI, a body that cannot be read to its
end (the client paused longer than uWSGI waits, or went away) fails the
request with 400, as the client's doing.

Message framing (``Content-Length``, ``Transfer-Encoding``, chunk sizes)
is the server's own parser's job here; the strict rules of the eventlet
daemon (``glance.common.framing``) do not run under these servers.
"""

import os

import webob.exc
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import config
from glance.common import exception
from glance.common import unused_options
from glance.store import options as store_options
from glance.wsgi import background
from glance.wsgi import exposure

try:
    # Importable only in a process of uWSGI.
    import uwsgi
except ImportError:
    uwsgi = None

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


class ChunkedInput:
    """A file-like ``wsgi.input`` over ``read_chunk()``, which returns the
    next decoded chunk of the body, and b'' at its end."""

    def __init__(self, read_chunk):
        self._read_chunk = read_chunk
        self._buffer = bytearray()
        self._ended = False

    def _fill(self, wanted):
        """Read chunks until the buffer holds ``wanted`` bytes (all of the
        body when ``wanted`` is None) or the body ended."""
        while not self._ended and (wanted is None
                                   or len(self._buffer) < wanted):
            try:
                chunk = self._read_chunk()
            except OSError as e:
                self._ended = True
                raise exception.BadRequest(
                    'The chunked request body could not be read (a '
                    'malformed or too large chunk, or a client too slow): '
                    '%s' % e)
            if chunk:
                self._buffer += chunk
            else:
                self._ended = True

    def _take(self, count):
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data

    def read(self, size=-1):
        """``size`` bytes, fewer only at the end of the body (all of it
        without ``size``), as from a file."""
        if size is None or size < 0:
            self._fill(None)
            return self._take(len(self._buffer))
        self._fill(size)
        return self._take(size)

    def readline(self, size=-1):
        while b'\n' not in self._buffer and not self._ended:
            if size is not None and 0 <= size <= len(self._buffer):
                break
            self._fill(len(self._buffer) + 1)
        end = self._buffer.find(b'\n') + 1 or len(self._buffer)
        if size is not None and size >= 0:
            end = min(end, size)
        return self._take(end)

    def __iter__(self):
        return iter(self.readline, b'')


class ClientInput:
    """uWSGI's ``wsgi.input``, its read errors turned into BadRequest."""

    def __init__(self, stream):
        self._stream = stream

    def _call(self, method, *args):
        try:
            return method(*args)
        except OSError as e:
            raise exception.BadRequest('The request body could not be '
                                       'read: %s' % e)

    def read(self, *args):
        return self._call(self._stream.read, *args)

    def readline(self, *args):
        return self._call(self._stream.readline, *args)

    def __iter__(self):
        return iter(self.readline, b'')


def client_input(app):
    """``app`` given a ``wsgi.input`` whose read errors are the client's
    (ClientInput)."""
    def wrapper(environ, start_response):
        environ['wsgi.input'] = ClientInput(environ['wsgi.input'])
        return app(environ, start_response)
    return wrapper


def _is_chunked(environ):
    return 'chunked' in environ.get('HTTP_TRANSFER_ENCODING', '').lower()


def chunked_input(app, read_chunk=None):
    """``app`` given the decoded body of chunked requests.

    When the server already decoded it (``wsgi.input_terminated``), the
    request passes unchanged; else with ``read_chunk`` (uWSGI's
    ``chunked_read``) the body is read through it; else the request is
    refused with 411 Length Required.
    """
    def wrapper(environ, start_response):
        if _is_chunked(environ) and not environ.get('wsgi.input_terminated'):
            if read_chunk is None:
                error = webob.exc.HTTPLengthRequired(
                    explanation='This server cannot read a chunked request '
                                'body: send Content-Length.')
                return error(environ, start_response)
            environ['wsgi.input'] = ChunkedInput(read_chunk)
            environ['wsgi.input_terminated'] = True
        return app(environ, start_response)
    return wrapper


def init_app():
    config_dir = os.environ.get('OS_GLANCE_CONFIG_DIR', '/etc/glance')
    files = [os.path.join(config_dir, name) for name in
             (config.IMAGE_IMPORT_CONFIG, 'glance-api.conf')]
    config.parse_args([], default_config_files=[
        f for f in files if os.path.exists(f)])
    config.set_config_defaults()
    logging.setup(CONF, 'glance')
    options = uwsgi.opt if uwsgi is not None else None
    exposure.check(CONF, options)
    problem = background.threads_problem(options)
    if problem:
        raise RuntimeError(problem)
    app = config.load_paste_app()
    background.start_in_workers(uwsgi)
    unused_options.report(
        CONF, unused_options.listed(store_options.list_api_opts()))
    if uwsgi is None:
        return chunked_input(app)
    return client_input(chunked_input(app, uwsgi.chunked_read))


application = init_app()
