"""The image metadata, member, data and metadata definition tests again,
with glance-api reading and writing through glance-registry (``data_api =
glance.registry.client``) and no database of its own: every answer must
be the same as direct.

The test classes are reached through their module so that this module
does not also collect (and run again) the direct originals.
"""

from glance.tests.functional import helpers_registry as hr
from glance.tests.functional import test_image_data as data
from glance.tests.functional import test_images_api as api
from glance.tests.functional import test_members as members
from glance.tests.functional import test_metadefs as metadefs


class TestCreateThroughRegistry(hr.ThroughRegistry, api.TestImageCreate):
    pass


class TestShowThroughRegistry(hr.ThroughRegistry, api.TestImageShow):
    pass


class TestListFiltersThroughRegistry(hr.ThroughRegistry,
                                     api.TestImageListFilters):
    pass


class TestListSortThroughRegistry(hr.ThroughRegistry,
                                  api.TestImageListSort):
    pass


class TestPaginationThroughRegistry(hr.ThroughRegistry,
                                    api.TestImageListPagination):
    pass


class TestPatchThroughRegistry(hr.ThroughRegistry, api.TestImagePatch):
    pass


class TestDeleteThroughRegistry(hr.ThroughRegistry, api.TestImageDelete):
    pass


class TestTagsThroughRegistry(hr.ThroughRegistry, api.TestImageTags):
    pass


class TestActionsThroughRegistry(hr.ThroughRegistry, api.TestImageActions):
    pass


class TestVisibilityThroughRegistry(hr.ThroughRegistry,
                                    api.TestImageVisibility):
    pass


class TestMemberLifecycleThroughRegistry(hr.ThroughRegistry,
                                         members.TestMemberLifecycle):
    pass


class TestMemberAuthorizationThroughRegistry(
        hr.ThroughRegistry, members.TestMemberAuthorization):
    pass


class TestMemberListingThroughRegistry(hr.ThroughRegistry,
                                       members.TestMemberListing):
    pass


class TestMemberBadInputThroughRegistry(hr.ThroughRegistry,
                                        members.TestMemberBadInput):
    pass


class TestMemberQuotaThroughRegistry(hr.ThroughRegistry,
                                     members.TestMemberQuota):
    pass


class TestListLimitsThroughRegistry(hr.ThroughRegistry,
                                    api.TestImageListLimits):
    pass


class TestOnlySharedImagesThroughRegistry(hr.ThroughRegistry,
                                          members.TestOnlySharedImages):
    pass


class TestMemberQuotaZeroThroughRegistry(hr.ThroughRegistry,
                                         members.TestMemberQuotaZero):
    pass


class TestMemberQuotaUnlimitedThroughRegistry(
        hr.ThroughRegistry, members.TestMemberQuotaUnlimited):
    pass


class TestMemberSchemasThroughRegistry(hr.ThroughRegistry,
                                       members.TestMemberSchemas):
    pass


class TestUploadDownloadThroughRegistry(hr.ThroughRegistry,
                                        data.TestUploadDownload):
    pass


class TestNamespacesThroughRegistry(hr.ThroughRegistry,
                                    metadefs.TestNamespacesSQLite):
    pass


class TestMetadefContentThroughRegistry(hr.ThroughRegistry,
                                        metadefs.TestContentSQLite):
    pass
