"""What a pass of glance-auditor or glance-updater tells: findings
appended to a JSON Lines report, a progress bar on a terminal, and a
summary (a table, or JSON for scripts).
"""

import dataclasses
import json
import os
import sys
from typing import Any, Optional, TextIO

from glance.common import timeutils


class Report:
    """Appends one JSON object a line to ``path`` (None: nowhere); every
    line is flushed, so a killed run loses nothing it reported."""

    def __init__(self, path: Optional[str]) -> None:
        self.path = path or None
        if self.path:
            directory = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(directory, exist_ok=True)

    def write(self, **entry: Any) -> None:
        if not self.path:
            return
        entry.setdefault('time', timeutils.isotime(timeutils.utcnow()))
        line = json.dumps(entry, sort_keys=True) + '\n'
        with open(self.path, 'a') as f:
            f.write(line)


class StateFile:
    """The last image id of an unfinished pass, kept across runs (written
    to a temporary file and renamed, so a crash leaves the old or the new
    one)."""

    def __init__(self, path: Optional[str]) -> None:
        self.path = path or None

    def load(self) -> Optional[str]:
        if not self.path:
            return None
        try:
            with open(self.path) as f:
                return json.load(f).get('after') or None
        except FileNotFoundError:
            return None
        except (OSError, ValueError, AttributeError):
            return None

    def save(self, after: Optional[str]) -> None:
        if not self.path:
            return
        if after is None:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
            return
        os.makedirs(os.path.dirname(os.path.abspath(self.path)),
                    exist_ok=True)
        tmp = '%s.%d.tmp' % (self.path, os.getpid())
        with open(tmp, 'w') as f:
            json.dump({'after': after,
                       'time': timeutils.isotime(timeutils.utcnow())}, f)
        os.replace(tmp, self.path)


@dataclasses.dataclass
class Summary:
    """Counters of one pass."""
    images: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    resumed_after: Optional[str] = None
    interrupted: bool = False
    counts: dict = dataclasses.field(default_factory=dict)
    findings: list = dataclasses.field(default_factory=list)
    # What a dry run would do, image by image.
    listed: list = dataclasses.field(default_factory=list)

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def to_dict(self) -> dict:
        return {'images': self.images, 'bytes_read': self.bytes_read,
                'seconds': round(self.seconds, 3),
                'resumed_after': self.resumed_after,
                'interrupted': self.interrupted,
                'counts': dict(sorted(self.counts.items())),
                'findings': self.findings, 'listed': self.listed}

    def write(self, out: TextIO, as_json: bool, title: str) -> None:
        if as_json:
            json.dump(self.to_dict(), out, indent=2, sort_keys=True)
            out.write('\n')
            return
        rate = self.bytes_read / self.seconds / 2 ** 20 if self.seconds \
            else 0.0
        rows = [('images', str(self.images)),
                ('bytes read', str(self.bytes_read)),
                ('seconds', '%.1f' % self.seconds),
                ('MiB/s', '%.1f' % rate)]
        if self.resumed_after:
            rows.append(('resumed after', self.resumed_after))
        if self.interrupted:
            rows.append(('interrupted', 'yes'))
        rows += [(k, str(v)) for k, v in sorted(self.counts.items())]
        width = max(len(k) for k, _ in rows)
        out.write('%s\n' % title)
        for key, value in rows:
            out.write('  %-*s  %s\n' % (width, key, value))
        for finding in self.findings:
            out.write('  ! %s %s: %s\n' % (
                finding['image_id'], finding['problem'],
                finding.get('detail', '')))
        for item in self.listed:
            out.write('  - %s lacks %s\n' % (item['image_id'],
                                             ', '.join(item['lacking'])))


class Progress:
    """A progress bar (rich) of images and bytes done, and the rate, on a
    terminal only: elsewhere every call does nothing."""

    def __init__(self, enabled: Optional[bool] = None,
                 stream: TextIO = sys.stderr) -> None:
        if enabled is None:
            enabled = stream.isatty()
        self._bar = None
        self._task = None
        self._images = self._done = 0
        if not enabled:
            return
        from rich import console
        from rich import progress
        self._bar = progress.Progress(
            progress.TextColumn('{task.description}'),
            progress.BarColumn(),
            progress.DownloadColumn(),
            progress.TransferSpeedColumn(),
            progress.TimeRemainingColumn(),
            console=console.Console(file=stream), transient=False)

    def _describe(self) -> str:
        return 'images %d/%d' % (self._done, self._images)

    def start(self, images: int, size: int) -> None:
        if self._bar is None:
            return
        self._images = images
        self._bar.start()
        self._task = self._bar.add_task(self._describe(),
                                        total=size or None)

    def advanced(self, count: int) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, count)

    def image_done(self) -> None:
        if self._bar is not None:
            self._done += 1
            self._bar.update(self._task, description=self._describe())

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
