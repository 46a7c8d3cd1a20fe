"""Response bodies of image data: zero-copy from local files.

``body(environ, chunks)`` is what a download controller returns as its
WSGI iterable. When the daemon serves the request over plain TCP (it puts
the client socket in the environ as ``glance.socket``) and the chunks come
from a local file (``chunks.file_range()``), the first 64 KiB go out
through the WSGI server, with the headers, and the rest with
``os.sendfile`` from the page cache to the socket: no copy through Python,
no 1 MiB strings, and the green thread waits for the socket only when the
client is slower than the disk. Otherwise (TLS, uWSGI or gunicorn, a
remote store) the chunks are yielded one by one, giving other green
threads a turn between them.
"""

import os
import socket

import eventlet
from eventlet import hubs

SOCKET_KEY = 'glance.socket'
# Bytes handed to one sendfile call; other green threads run between
# calls. Small enough that 32 downloads in one worker still let a new
# request through within milliseconds, big enough that a lone download
# still runs at what loopback TCP carries.
BLOCK = 256 * 1024
# Bytes read and written the usual way first, with the headers.
HEAD = 64 * 1024


def body(environ, chunks):
    sock = environ.get(SOCKET_KEY)
    file_range = getattr(chunks, 'file_range', None)
    if sock is None or file_range is None or file_range() is None:
        return _cooperative(chunks)
    # Every chunk is written as it comes, so the headers and the first
    # chunk are on the socket before sendfile adds to it.
    environ['eventlet.minimum_write_chunk_size'] = 0
    return _sendfile(sock, chunks)


def _cooperative(chunks):
    """Yield to other green threads between chunks: reading a local file
    and writing to a fast client never wait, and would otherwise hold the
    worker for the whole download."""
    try:
        for chunk in chunks:
            yield chunk
            eventlet.sleep(0)
    finally:
        _close(chunks)


def _sendfile(sock, chunks):
    try:
        fd, offset, count = chunks.file_range()
        if count <= 0:
            return
        # A small first piece: it carries the headers out at once.
        head = os.pread(fd, min(HEAD, count), offset)
        if head:
            chunks.consumed(len(head))
            yield head
        send(sock, chunks)
        # A file still being written (an image cache entry) offers more
        # once that is sent: its file_range waits for it.
        while True:
            more = chunks.file_range()
            if more is None or more[2] <= 0:
                break
            send(sock, chunks)
            after = chunks.file_range()
            if after is None or after[1] == more[1]:
                break
        # Nothing is left unless sendfile stopped short (the file shrank,
        # or the writer of a growing one stopped).
        yield from chunks
    finally:
        _close(chunks)


def send(sock, chunks):
    """Send what is left of ``chunks.file_range()`` to the green socket
    ``sock``, telling ``chunks.consumed`` after each piece. Stops early
    only when the file ends first; waits for the socket as long as its
    timeout says."""
    source = chunks.file_range()
    if source is None:
        return
    fd, offset, count = source
    out = sock.fileno()
    timeout = sock.gettimeout()
    while count > 0:
        try:
            n = os.sendfile(out, fd, offset, min(BLOCK, count))
        except BlockingIOError:
            hubs.trampoline(out, write=True, timeout=timeout,
                            timeout_exc=socket.timeout('timed out'))
            continue
        if n == 0:
            return
        chunks.consumed(n)
        offset += n
        count -= n
        eventlet.sleep(0)


def _close(chunks):
    close = getattr(chunks, 'close', None)
    if close is not None:
        close()
