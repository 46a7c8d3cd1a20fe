"""Who may read an image's data where the store keeps it per project.

A store that writes with the uploader's credentials (multi-tenant swift:
a container per image in the owner's account) cannot be read by other
projects unless it is told who may: after an upload, a visibility change
and a change of members, ``sync`` hands such stores (those with a
``set_acls`` method) the readers: everyone for public and community
images, the member projects for shared ones, nobody else otherwise. It
runs with the request's credentials, after the change is committed; a
store that refuses is logged, never fails the request (as upstream).
"""

from oslo_log import log as logging

from glance.db import members as db_members
from glance.db import session
from glance.store import exceptions as store_exc
from glance.store import registry

LOG = logging.getLogger(__name__)

EVERYONE = ('public', 'community')


def sync(ctx, image):
    """Tell the stores of ``image``'s active locations who may read."""
    stores = []
    for loc in image.get('locations') or ():
        if loc.get('status', 'active') != 'active':
            continue
        try:
            store = registry.store_for_location(
                loc['url'], loc['metadata'].get('store'))
        except store_exc.StoreError:
            continue
        if getattr(store, 'set_acls', None) is not None and \
                store.wants_acls():
            stores.append((store, loc['url']))
    if not stores:
        return
    public = image['visibility'] in EVERYONE
    readers = []
    if image['visibility'] == 'shared':
        with session.reader() as conn:
            readers = [m['member'] for m in db_members.member_list(
                conn, image['id'])]
    for store, url in stores:
        try:
            store.set_acls(url, public=public, read_projects=readers,
                           context=ctx)
        except Exception as e:
            LOG.warning('Could not set who may read the data of image %s '
                        'in store %s: %s', image['id'], store.name, e)
