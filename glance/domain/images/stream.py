"""The download stream: the bytes of one image on their way out of a store.

Every reader of image data goes through one ``DownloadStream``: the
``GET /file`` controller, and the image cache (a hit served from its own
file, a miss teed into it), the auditor and the replicator after it. The
stream owns three things those readers would otherwise each redo:

* byte counting: a chunk counts once the consumer asks for the next one
  (the previous one was written), bytes sent straight from a file count
  when ``consumed`` reports them;
* the sendfile hand-off: ``file_range()`` says where the rest of the data
  lies in a local file (``None`` when it does not) and ``consumed(n)``
  moves past what was sent from it without reading;
* the end: ``close()`` closes the store's iterator and reports, once,
  how many bytes left and whether that was all that was expected.
"""

import typing

# (file descriptor, offset, byte count) of what is left in a local file.
FileRange = typing.Tuple[int, int, int]


class DownloadStream:
    """An iterator over ``chunks`` (what a store's ``get`` returned) that
    counts what leaves and calls ``on_end(stream)`` once when closed.

    ``expected`` is the number of bytes a whole download carries (the
    image size, or the length of a range); ``complete`` is true only when
    the chunks ran out and exactly that many bytes went out.
    ``sent`` is the count so far.
    """

    def __init__(self, chunks: typing.Iterable[bytes],
                 expected: typing.Optional[int] = None,
                 on_end: typing.Optional[
                     typing.Callable[['DownloadStream'], None]] = None):
        self._chunks = chunks
        self._iter = iter(chunks)
        self._on_end = on_end
        self._pending = 0
        self._finished = False
        self._closed = False
        self.expected = expected
        self.sent = 0

    def __iter__(self) -> 'DownloadStream':
        return self

    def __next__(self) -> bytes:
        self.sent += self._pending
        self._pending = 0
        try:
            chunk = next(self._iter)
        except StopIteration:
            self._finished = True
            self.close()
            raise
        except BaseException:
            self.close()
            raise
        self._pending = len(chunk)
        return chunk

    @property
    def complete(self) -> bool:
        """The whole download left: the chunks ended and the count is
        the one expected (without an expected count, never known)."""
        return self._finished and self.sent == self.expected

    def file_range(self) -> typing.Optional[FileRange]:
        file_range = getattr(self._chunks, 'file_range', None)
        return file_range() if file_range is not None else None

    def consumed(self, count: int) -> None:
        """``count`` more bytes left straight from the file."""
        self._chunks.consumed(count)
        self.sent += self._pending + count
        self._pending = 0

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        close = getattr(self._chunks, 'close', None)
        if close is not None:
            close()
        if self._on_end is not None:
            self._on_end(self)
