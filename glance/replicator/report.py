"""What the replicator shows: a progress bar while it works (on a
terminal only), then a summary table or, with --json, one JSON document.
"""

import json
import sys
import threading
import typing

from rich import console as rich_console
from rich import progress as rich_progress
from rich import table as rich_table

from glance.replicator import copy


def human(size: float) -> str:
    for unit in ('B', 'KiB', 'MiB', 'GiB', 'TiB'):
        if abs(size) < 1024 or unit == 'TiB':
            return ('%d %s' % (size, unit) if unit == 'B'
                    else '%.1f %s' % (size, unit))
        size /= 1024.0
    return str(size)


class Progress:
    """Images and bytes done and the rate, on stderr when it is a
    terminal (and not disabled); otherwise silent. Safe to call from
    several copying threads."""

    def __init__(self, images: int, total_bytes: int, enabled: bool = True,
                 stream=None):
        stream = stream or sys.stderr
        self.enabled = enabled and stream.isatty()
        self._lock = threading.Lock()
        self.images_total = images
        self.images_done = 0
        if not self.enabled:
            self._bar = None
            return
        self._bar = rich_progress.Progress(
            rich_progress.TextColumn('{task.description}'),
            rich_progress.BarColumn(),
            rich_progress.DownloadColumn(binary_units=True),
            rich_progress.TransferSpeedColumn(),
            rich_progress.TimeRemainingColumn(),
            console=rich_console.Console(file=stream),
            transient=False)
        self._task = self._bar.add_task(self._label(), total=total_bytes)

    def _label(self) -> str:
        return 'images %d/%d' % (self.images_done, self.images_total)

    def __enter__(self):
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc_info):
        if self._bar is not None:
            self._bar.stop()

    def advance(self, nbytes: int) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, nbytes)

    def image_done(self, unsent: int = 0) -> None:
        """One image finished; ``unsent`` bytes of it were never sent
        (it failed, or had nothing to copy) and leave the total."""
        with self._lock:
            self.images_done += 1
            if self._bar is not None:
                task = self._bar.tasks[0]
                self._bar.update(self._task, description=self._label(),
                                 total=max(task.completed,
                                           (task.total or 0) - unsent))


def summary(command: str, results: typing.List[copy.Result],
            seconds: float) -> dict:
    counts = {}
    for result in results:
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
    sent = sum(r.bytes for r in results)
    return {'command': command, 'images': len(results), 'outcomes': counts,
            'bytes': sent, 'seconds': round(seconds, 3),
            'mib_per_second': round(sent / (1 << 20) / seconds, 1)
            if seconds > 0 else None}


def render(command: str, results: typing.List[copy.Result], seconds: float,
           as_json: bool, stream=None, extra: typing.Optional[dict] = None
           ) -> None:
    stream = stream or sys.stdout
    total = summary(command, results, seconds)
    total.update(extra or {})
    if as_json:
        json.dump({'summary': total,
                   'results': [r.as_dict() for r in results]}, stream,
                  indent=2, sort_keys=True)
        stream.write('\n')
        return
    out = rich_console.Console(file=stream, highlight=False,
                               width=None if stream.isatty() else 160)
    shown = [r for r in results
             if r.outcome not in ('unchanged', 'counted')]
    if shown:
        table = rich_table.Table(title='glance-replicator %s' % command)
        table.add_column('image', no_wrap=True)
        for column in ('name', 'outcome', 'bytes', 'seconds', 'detail'):
            table.add_column(column, overflow='fold')
        for r in shown:
            table.add_row(r.image_id, r.name or '', r.outcome,
                          human(r.bytes) if r.bytes else '',
                          '%.1f' % r.seconds if r.seconds else '',
                          r.message)
        out.print(table)
    parts = ['%d %s' % (n, outcome)
             for outcome, n in sorted(total['outcomes'].items())]
    line = '%d images (%s)' % (total['images'], ', '.join(parts) or 'none')
    if total['bytes']:
        line += ', %s in %.1f s (%.1f MiB/s)' % (
            human(total['bytes']), seconds, total['mib_per_second'] or 0)
    for key, value in (extra or {}).items():
        line += ', %s: %s' % (key, value)
    out.print(line, markup=False)
