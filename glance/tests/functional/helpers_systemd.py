"""What systemd does for a Type=notify service, done by a test: an AF_UNIX
datagram socket whose path goes to the daemon as $NOTIFY_SOCKET, and a
thread recording every message with the pid that sent it."""

import os
import socket
import struct
import threading
import time
import uuid

from glance.tests.functional import helpers_daemon as hd


class Message:
    def __init__(self, text, pid):
        self.text = text
        self.pid = pid
        self.at = time.monotonic()
        self.fields = dict(line.split('=', 1) for line in text.split('\n')
                           if '=' in line)

    def __repr__(self):
        return 'Message(%r, pid=%s)' % (self.text, self.pid)


class NotifyListener:
    """Collects notifications sent to ``path``."""

    def __init__(self, directory):
        self.path = os.path.join(directory, 'notify.sock')
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        # Ask the kernel for the sender's credentials with each message,
        # as systemd does to enforce NotifyAccess=main.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.settimeout(0.2)
        self.messages = []
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def env(self, **extra):
        return dict({'NOTIFY_SOCKET': self.path}, **extra)

    def _run(self):
        creds_size = struct.calcsize('3i')
        while not self._closed:
            try:
                data, ancdata, _flags, _addr = self.sock.recvmsg(
                    4096, socket.CMSG_SPACE(creds_size))
            except socket.timeout:
                continue
            except OSError:
                return
            pid = None
            for level, kind, payload in ancdata:
                if (level == socket.SOL_SOCKET
                        and kind == socket.SCM_CREDENTIALS):
                    pid = struct.unpack('3i', payload[:creds_size])[0]
            with self._lock:
                self.messages.append(Message(data.decode(), pid))

    def close(self):
        self._closed = True
        self._thread.join()
        self.sock.close()

    def snapshot(self):
        with self._lock:
            return list(self.messages)

    def having(self, key, value='1', after=0):
        """Messages (from index ``after`` on) that set ``key=value``."""
        return [m for m in self.snapshot()[after:]
                if m.fields.get(key) == value]

    def sync(self):
        """Send a message of the test's own and wait for it; returns its
        index. Every message sent before it has arrived by then (one
        socket queues them in order): what is not before it, nobody
        sent."""
        token = uuid.uuid4().hex
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(('SENTINEL=%s' % token).encode(), self.path)
        return self.wait('SENTINEL', token)[0]

    def wait(self, key, value='1', after=0, timeout=hd.PATIENCE):
        """The first message from index ``after`` on setting ``key``;
        returns (its index, the message)."""
        def found():
            for i, m in enumerate(self.snapshot()[after:], after):
                if m.fields.get(key) == value:
                    return i, m
            return None
        return hd.wait_for(found, timeout=timeout,
                           what='%s=%s from the daemon' % (key, value))
