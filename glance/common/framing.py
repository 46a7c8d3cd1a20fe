"""Strict HTTP/1.1 message framing for the eventlet daemon.

A proxy in front of the service and the service itself must agree on
where each request ends; where they could disagree, a request body could
be read by one of them as the start of another request. eventlet reads
``Content-Length`` with ``int()`` (which takes ``+5``, ``5_0``) and chunk
sizes with ``int(x, 16)`` (which takes ``0x51``, `` +51``), and a
``Transfer-Encoding`` other than exactly ``chunked`` as no body at all.

Here the framing headers are checked once they are parsed and before
anything reads a body; what is not plainly valid is answered with 400
(501 for a transfer coding other than chunked) and the connection is
closed, so nothing after it on the connection is read as a request:

* a header block the parser could not read whole (a line that is not a
  field, such as ``Content-Length : 5``, or a first line starting with
  a space), a folded header line, a field name that is not a token, a NUL
  in a value, ``Content_Length`` or ``Transfer_Encoding``;
* ``Content-Length`` that is not all digits, or given twice with
  different values;
* ``Transfer-Encoding`` together with ``Content-Length``, on an
  HTTP/1.0 request, naming ``chunked`` more than once, an empty coding,
  or a coding other than ``chunked`` (501).

Chunked bodies are read by ``ChunkedInput``: a chunk size is 1 to 16 hex
digits, optionally followed by extensions, and ends with CRLF; the chunk
data ends with CRLF; the size line and the trailer lines are bounded. A
body that breaks these rules raises ``MalformedChunk`` (a 400 for the
application) and the connection is closed after the response.
"""

import email.errors
import email.message
import re

import eventlet.wsgi

from glance.common import exception
from glance.common import tls

# What the header parser reports for a line it could not read as a field
# (and left out of the headers); other defects it notes are about
# multipart bodies, which the header block alone cannot have.
_HEADER_DEFECTS = (email.errors.MissingHeaderBodySeparatorDefect,
                   email.errors.FirstHeaderLineIsContinuationDefect,
                   email.errors.MisplacedEnvelopeHeaderDefect)
# RFC 9110 token: what a field name may be made of.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_FRAMING = ('content-length', 'transfer-encoding')
_DIGITS = re.compile(r'[0-9]+\Z')
# chunk-size [chunk-ext] CRLF; the extensions are passed over.
_CHUNK_LINE = re.compile(rb'([0-9A-Fa-f]{1,16})(?:[ \t]*;[^\r\n\x00]*)?'
                         rb'\r\n\Z')
# Longest Content-Length (beyond any body, and never parsed whole).
MAX_LENGTH_DIGITS = 18
# Longest chunk-size line (with its extensions) and trailer line, in
# bytes, and most trailer lines.
MAX_CHUNK_LINE = 4096
MAX_TRAILER_LINE = 8192
MAX_TRAILERS = 32


class FramingError(Exception):
    """A request whose end cannot be told for sure."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.message = message
        self.status = status


class MalformedChunk(exception.BadRequest, eventlet.wsgi.ChunkReadError):
    """A chunked body that breaks the chunked coding.

    A BadRequest for the application, and the ChunkReadError eventlet
    expects when it reads what is left of a body."""


def check_framing(headers: email.message.Message,
                  request_version: str) -> bool:
    """Whether the body is chunked; FramingError when the headers leave
    the length of the body in doubt. ``headers`` is the parsed header
    block (an ``email.message.Message``)."""
    if any(isinstance(d, _HEADER_DEFECTS) for d in headers.defects):
        raise FramingError('Malformed header block: every line must be '
                           '"name: value".')
    for name, value in headers.items():
        if not _TOKEN.match(name):
            raise FramingError('Malformed header name %r.' % name)
        if '_' in name and name.lower().replace('_', '-') in _FRAMING:
            # Some servers (eventlet before 0.37 among them) read it as
            # the framing header it resembles.
            raise FramingError('Header %s is refused: it could be read as '
                               '%s.' % (name, name.replace('_', '-')))
        if '\r' in value or '\n' in value:
            raise FramingError('Folded header lines are not accepted '
                               '(header %s).' % name)
        if '\x00' in value:
            raise FramingError('NUL in header %s.' % name)
    lengths = headers.get_all('Content-Length') or []
    for value in lengths:
        if not _DIGITS.match(value.strip(' \t')):
            raise FramingError('Content-Length must be a decimal number of '
                               'bytes, not %r.' % value[:64])
        if len(value.strip(' \t').lstrip('0')) > MAX_LENGTH_DIGITS:
            raise FramingError('Content-Length has more than %d digits.'
                               % MAX_LENGTH_DIGITS)
    if len({int(v.strip(' \t').lstrip('0') or '0') for v in lengths}) > 1:
        raise FramingError('Content-Length is given more than once with '
                           'different values.')
    encodings = headers.get_all('Transfer-Encoding')
    if encodings is None:
        return False
    if lengths:
        raise FramingError('Content-Length and Transfer-Encoding are not '
                           'allowed together.')
    if request_version == 'HTTP/1.0':
        raise FramingError('Transfer-Encoding is not allowed in an '
                           'HTTP/1.0 request.')
    codings = [c.strip(' \t').lower()
               for value in encodings for c in value.split(',')]
    for coding in codings:
        if not coding:
            raise FramingError('Empty transfer coding in Transfer-Encoding.')
        if coding != 'chunked':
            raise FramingError('Transfer coding %r is not implemented; '
                               'only chunked is.' % coding, status=501)
    if len(codings) > 1:
        raise FramingError('Transfer-Encoding names chunked more than '
                           'once.')
    return True


class ChunkedInput(eventlet.wsgi.Input):
    """``wsgi.input`` of a chunked request, read by the rules above.

    ``on_error`` is called once when the body turns out malformed (before
    ``MalformedChunk`` is raised); every later read raises it again.
    """

    def __init__(self, rfile, sock, wfile=None, wfile_line=None,
                 on_error=None):
        super().__init__(rfile, None, sock, wfile=wfile,
                         wfile_line=wfile_line, chunked_input=True)
        self._on_error = on_error
        self._left = 0          # bytes left in the current chunk
        self._done = False      # the last chunk and trailers were read
        self._error = None

    # -- reading the coding -----------------------------------------------

    def _fail(self, message):
        self._error = MalformedChunk('Malformed chunked request body: %s'
                                     % message)
        if self._on_error is not None:
            self._on_error()
        raise self._error

    def _line(self, limit, what):
        line = self.rfile.readline(limit + 1)
        if not line:
            self._fail('it ends before its last chunk.')
        if len(line) > limit:
            self._fail('%s longer than %d bytes.' % (what, limit))
        if not line.endswith(b'\r\n'):
            self._fail('%s does not end with CRLF.' % what)
        return line

    def _next_chunk(self):
        line = self._line(MAX_CHUNK_LINE, 'chunk size line')
        match = _CHUNK_LINE.match(line)
        if match is None:
            self._fail('invalid chunk size %r.' % line[:64])
        size = int(match.group(1), 16)
        if size == 0:
            self._read_trailers()
            self._done = True
        self._left = size

    def _read_trailers(self):
        for _ in range(MAX_TRAILERS + 1):
            line = self._line(MAX_TRAILER_LINE, 'trailer line')
            if line == b'\r\n':
                return
        self._fail('more than %d trailer lines.' % MAX_TRAILERS)

    def _end_of_chunk(self):
        if self.rfile.read(2) != b'\r\n':
            self._fail('chunk data is not followed by CRLF.')

    def _read(self, length, line):
        if self._error is not None:
            raise self._error
        if self.should_send_hundred_continue:
            self.send_hundred_continue_response()
            self.is_hundred_continue_response_sent = True
        if length is not None and length < 0:
            length = None
        parts = []
        while not self._done and length != 0:
            if self._left == 0:
                self._next_chunk()
                continue
            want = self._left if length is None else min(self._left, length)
            data = (self.rfile.readline(want) if line
                    else self.rfile.read(want))
            if not data:
                self._fail('it ends inside a chunk.')
            parts.append(data)
            self._left -= len(data)
            self.position += len(data)
            if length is not None:
                length -= len(data)
            if self._left == 0:
                self._end_of_chunk()
            if line and data.endswith(b'\n'):
                break
        return b''.join(parts)

    # -- the file interface -----------------------------------------------

    def read(self, length=None):
        return self._read(length, False)

    def readline(self, size=None):
        return self._read(size, True)

    def readlines(self, hint=None):
        lines = []
        for found in iter(self.readline, b''):
            lines.append(found)
            if hint and hint > 0:
                hint -= len(found)
                if hint <= 0:
                    break
        return lines

    def __iter__(self):
        return iter(self.read, b'')

    def discard(self, buffer_size=16 << 10):
        while self.read(buffer_size):
            pass


class HttpProtocol(tls.HttpProtocol):
    """The daemon's protocol: TLS-aware, with the framing rules above."""

    _chunked = False

    def parse_request(self):
        if not super().parse_request():
            return False
        try:
            self._chunked = check_framing(self.headers, self.request_version)
        except FramingError as e:
            self._refuse(e.status, e.message)
            return False
        return True

    def _refuse(self, status, message):
        body = (message + '\n').encode('utf-8', 'replace')
        reason = {400: 'Bad Request', 501: 'Not Implemented'}[status]
        self.wfile.write(b'HTTP/1.1 %d %s\r\nContent-Type: text/plain; '
                         b'charset=UTF-8\r\nContent-Length: %d\r\n'
                         b'Connection: close\r\n\r\n%s'
                         % (status, reason.encode(), len(body), body))
        self.close_connection = 1
        self.server.log.info('Refused a request from %s: %s',
                             self.client_address[0], message)

    def _body_broken(self):
        # The rest of the connection cannot be told from the body: the
        # response says Connection: close and nothing more is read.
        self.close_connection = 1

    def get_environ(self):
        environ = super().get_environ()
        if self._chunked:
            given = environ['wsgi.input']
            environ['wsgi.input'] = environ['eventlet.input'] = ChunkedInput(
                given.rfile, given.get_socket(), wfile=given.wfile,
                wfile_line=given.wfile_line, on_error=self._body_broken)
        return environ
