"""The tests of the paths that lock rows, on MariaDB/MySQL and PostgreSQL.

``SELECT ... FOR UPDATE`` (members, staging, uploads, imports, the legacy
import task, locations) only takes a lock on a server database: SQLite
serialises writers by itself. The same test classes that run on SQLite
elsewhere run here against both servers.

The classes are reached through their modules and derived here, so this
module does not also collect (and run again) the SQLite originals.
"""

from glance.tests.functional import test_image_data
from glance.tests.functional import test_import
from glance.tests.functional import test_locations
from glance.tests.functional import test_members

COVERED = (
    (test_members, ('TestMemberLifecycle', 'TestMemberAuthorization',
                    'TestOnlySharedImages', 'TestMemberListing',
                    'TestMemberBadInput', 'TestMemberQuota')),
    (test_image_data, ('TestUploadDownload', 'TestUploadRules',
                       'TestStorageQuota')),
    (test_import, ('TestGlanceDirect', 'TestTasksApi', 'TestRecovery',
                   'TestWebDownload', 'TestMultiStoreImport',
                   'TestStagedOnAnotherNode', 'TestDeleteStaged')),
    (test_locations, ('TestPatchLocations', 'TestLocationApi',
                      'TestDelayedDeleteRemoval')),
)
SERVERS = (('mysql', 'MySQL'), ('postgresql', 'PostgreSQL'))


def _derive():
    made = {}
    for module, names in COVERED:
        for name in names:
            original = getattr(module, name)
            for kind, suffix in SERVERS:
                made[name + suffix] = type(name + suffix, (original,), {
                    'db_kind': kind, '__module__': __name__,
                    '__doc__': '%s on %s.' % (name, suffix)})
    return made


globals().update(_derive())
