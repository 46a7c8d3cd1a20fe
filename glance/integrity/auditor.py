"""glance-auditor: every location of every active image is read once
through its store and checked against the image's record.

A location is bad when its data is missing, has another size than the
image's ``size``, or hashes to another ``checksum`` or ``os_hash_value``.
Each bad location is logged, appended to the report, sent as an
``image.audit.failed`` notification and, with
``auditor_mark_bad_locations``, given the status ``audit_failed``:
downloads skip it (a good copy is served, or 503 when none is left) and
the locations API no longer lists it. A later pass finding its data good
makes it active again. Data that cannot be read for another reason (a
store not reachable, a store this service does not drive) is reported
but never marks a location: it says nothing about the data.
"""

from typing import Optional

from oslo_config import cfg

from glance import notifier
from glance.common import timeutils
from glance.db import integrity as integrity_db
from glance.db import session
from glance.domain.images import locations
from glance.integrity import options
from glance.integrity import walk
from glance.store import exceptions as store_exc
from glance.store import registry

CONF = cfg.CONF
options.register_opts(CONF)

ACTIVE = 'active'
BAD = locations.AUDIT_FAILED


class Auditor(walk.Walker):
    """One pass audits the catalogue (or one image)."""

    name = 'glance-auditor'

    @property
    def interval(self) -> float:
        return self.conf.auditor_interval

    @property
    def rate(self) -> int:
        return self.conf.auditor_bytes_per_second

    @property
    def report_path(self) -> Optional[str]:
        return self.conf.auditor_report_file

    @property
    def state_path(self) -> Optional[str]:
        return self.conf.auditor_state_file

    def status(self) -> str:
        return 'Auditing every %ss at %s B/s' % (self.interval, self.rate)

    def check_image(self, image_id: str) -> None:
        image = self.load_active(image_id)
        if image is None:
            return
        for loc in image['locations']:
            if loc['status'] not in (ACTIVE, BAD) or self.halted():
                continue
            self._check_location(image, loc)

    def _check_location(self, image: dict, loc: dict) -> None:
        store_name = loc['metadata'].get('store')
        try:
            store = registry.store_for_location(loc['url'], store_name)
        except store_exc.StoreError as e:
            self.finding(image['id'], 'unreadable', str(e), store=store_name,
                         location_id=loc['id'], action='none')
            return
        algo = image['os_hash_algo'] or CONF.hashing_algorithm
        try:
            result = self.read(store, loc['url'], algo)
        except store_exc.NotFound:
            self._bad(image, loc, store.name, 'missing',
                      'no data at the location')
            return
        except Exception as e:
            self.finding(image['id'], 'unreadable', str(e), store=store.name,
                         location_id=loc['id'], action='none')
            self.log.warning('Image %s: data in store %s not read: %s',
                             image['id'], store.name, e)
            return
        if result is None:
            return      # stopping
        self.summary.count('locations_checked')
        problem = _compare(image, result)
        if problem is not None:
            self._bad(image, loc, store.name, *problem)
        elif loc['status'] == BAD:
            self._restore(image, loc, store.name)
        else:
            self.summary.count('locations_good')

    def _bad(self, image, loc, store_name, problem, detail):
        action = 'reported'
        if self.conf.auditor_mark_bad_locations:
            if loc['status'] == BAD:
                action = 'already_marked'
            else:
                with session.writer() as conn:
                    marked = integrity_db.location_set_status(
                        conn, loc['id'], BAD, ACTIVE, timeutils.now())
                action = 'marked' if marked else 'changed_meanwhile'
        self.log.error('Image %s: data in store %s is bad (%s: %s); %s',
                       image['id'], store_name, problem, detail, action)
        self.finding(image['id'], problem, detail, store=store_name,
                     location_id=loc['id'], action=action)
        notifier.audit_failed(image, store_name, problem, detail)

    def _restore(self, image, loc, store_name):
        if not self.conf.auditor_mark_bad_locations:
            self.summary.count('locations_still_marked')
            return
        with session.writer() as conn:
            done = integrity_db.location_set_status(
                conn, loc['id'], ACTIVE, BAD, timeutils.now())
        if done:
            self.log.warning('Image %s: data in store %s is good again; '
                             'location active again', image['id'],
                             store_name)
            self.report.write(image_id=image['id'], problem='none',
                              detail='data good again', store=store_name,
                              location_id=loc['id'], action='restored')
            self.summary.count('locations_restored')


def _compare(image: dict, result) -> Optional[tuple[str, str]]:
    """(problem, detail) when the data read disagrees with the record."""
    if image['size'] is not None and result.size != image['size']:
        return ('size_mismatch', '%d bytes, %d recorded'
                % (result.size, image['size']))
    if image['checksum'] and result.checksum != image['checksum']:
        return ('checksum_mismatch', 'md5 %s, %s recorded'
                % (result.checksum, image['checksum']))
    if image['os_hash_value'] and result.hash_value != image['os_hash_value']:
        return ('hash_mismatch', '%s differs from the one recorded'
                % result.hash_algo)
    return None
