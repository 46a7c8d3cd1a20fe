"""Counting how often a file is opened, with Linux inotify (through
ctypes): how the cache tests count the store's reads of an image from
outside the server."""

import ctypes
import ctypes.util
import os
import select
import struct

IN_OPEN = 0x00000020
IN_NONBLOCK = 0o4000
_EVENT = struct.Struct('iIII')


class OpenCounter:
    """``with OpenCounter(path) as c: ...; c.count()``: opens of
    ``path`` while the block ran."""

    def __init__(self, path):
        self.path = path
        self.fd = -1
        self.seen = 0

    def __enter__(self):
        libc = ctypes.CDLL(ctypes.util.find_library('c'), use_errno=True)
        self.fd = libc.inotify_init1(IN_NONBLOCK)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), 'inotify_init1')
        wd = libc.inotify_add_watch(self.fd, os.fsencode(self.path),
                                    IN_OPEN)
        if wd < 0:
            raise OSError(ctypes.get_errno(), 'inotify_add_watch')
        return self

    def _drain(self):
        while select.select([self.fd], [], [], 0.2)[0]:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            offset = 0
            while offset < len(data):
                _wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
                if mask & IN_OPEN:
                    self.seen += 1
                offset += _EVENT.size + length

    def count(self):
        self._drain()
        return self.seen

    def __exit__(self, *exc_info):
        os.close(self.fd)
