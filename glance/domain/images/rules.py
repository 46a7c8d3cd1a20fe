"""The rules every change of an image obeys: which status may follow
which, and what text its metadata may hold. No database, no policy: the
modules that load and save images all use these."""

import re

from glance.common import exception

# Statuses an image may move to from each status.
TRANSITIONS = {
    'queued': {'saving', 'uploading', 'importing', 'active', 'deleted'},
    'saving': {'active', 'killed', 'deleted', 'queued'},
    'uploading': {'importing', 'queued', 'deleted'},
    'importing': {'active', 'deleted', 'queued'},
    'active': {'pending_delete', 'deleted', 'deactivated'},
    'killed': {'deleted'},
    'pending_delete': {'deleted', 'active'},
    'deleted': set(),
    'deactivated': {'active', 'deleted'},
}


def check_transition(image, new_status):
    """Raise unless ``image`` may move to ``new_status``."""
    current = image['status']
    if new_status not in TRANSITIONS[current]:
        raise exception.InvalidImageStatusTransition(
            'Image status transition from %s to %s is not allowed'
            % (current, new_status))
    if (current in ('queued', 'uploading')
            and new_status in ('saving', 'active', 'importing')):
        missing = [k for k in ('container_format', 'disk_format')
                   if not image.get(k)]
        if missing:
            raise exception.Invalid('Properties %s must be set prior to '
                                    'saving data.' % ', '.join(missing))


_BAD_TEXT = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\x7f'
                       '\ud800-\udfff\U00010000-\U0010ffff]')


def check_text(value):
    """Refuse what a database cannot store or a client cannot print.

    MySQL's utf8 holds 3-byte UTF-8 at most, PostgreSQL no NUL, and lone
    surrogates are not UTF-8 at all; other control characters (tab and
    newlines aside) only hide what a value really is.
    """
    if isinstance(value, str):
        match = _BAD_TEXT.search(value)
        if match:
            if ord(match.group()) > 0xFFFF:
                raise exception.Invalid('4 byte unicode characters are not '
                                        'supported in image metadata: %r'
                                        % value)
            raise exception.Invalid('Control characters and unpaired '
                                    'surrogates are not allowed in image '
                                    'metadata: %r' % value)


INT_MAX = 2 ** 31 - 1
