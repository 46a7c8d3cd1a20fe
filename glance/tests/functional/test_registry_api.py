"""The image metadata, member, data, location and metadata definition
tests again, with glance-api reading and writing through glance-registry
(``data_api = glance.registry.client``) and no database of its own: every
answer must be the same as direct, failed requests changing nothing
there either.

The test classes are reached through their module so that this module
does not also collect (and run again) the direct originals.
"""

from glance.tests.functional import helpers_registry as hr
from glance.tests.functional import test_image_data as data
from glance.tests.functional import test_images_api as api
from glance.tests.functional import test_locations as locations
from glance.tests.functional import test_members as members
from glance.tests.functional import test_metadefs as metadefs


class TestCreateThroughRegistry(api.TestImageCreate, hr.ThroughRegistry):
    pass


class TestShowThroughRegistry(api.TestImageShow, hr.ThroughRegistry):
    pass


class TestListFiltersThroughRegistry(api.TestImageListFilters,
                                     hr.ThroughRegistry):
    pass


class TestListSortThroughRegistry(api.TestImageListSort, hr.ThroughRegistry):
    pass


class TestPaginationThroughRegistry(api.TestImageListPagination,
                                    hr.ThroughRegistry):
    pass


class TestListLimitsThroughRegistry(api.TestImageListLimits,
                                    hr.ThroughRegistry):
    pass


class TestPatchThroughRegistry(api.TestImagePatch, hr.ThroughRegistry):
    pass


class TestDeleteThroughRegistry(api.TestImageDelete, hr.ThroughRegistry):
    pass


class TestTagsThroughRegistry(api.TestImageTags, hr.ThroughRegistry):
    pass


class TestActionsThroughRegistry(api.TestImageActions, hr.ThroughRegistry):
    pass


class TestVisibilityThroughRegistry(api.TestImageVisibility,
                                    hr.ThroughRegistry):
    pass


class TestMemberLifecycleThroughRegistry(members.TestMemberLifecycle,
                                         hr.ThroughRegistry):
    pass


class TestMemberAuthorizationThroughRegistry(members.TestMemberAuthorization,
                                             hr.ThroughRegistry):
    pass


class TestOnlySharedImagesThroughRegistry(members.TestOnlySharedImages,
                                          hr.ThroughRegistry):
    pass


class TestMemberListingThroughRegistry(members.TestMemberListing,
                                       hr.ThroughRegistry):
    pass


class TestMemberBadInputThroughRegistry(members.TestMemberBadInput,
                                        hr.ThroughRegistry):
    pass


class TestMemberQuotaThroughRegistry(members.TestMemberQuota,
                                     hr.ThroughRegistry):
    pass


class TestMemberQuotaZeroThroughRegistry(members.TestMemberQuotaZero,
                                         hr.ThroughRegistry):
    pass


class TestMemberQuotaUnlimitedThroughRegistry(members.TestMemberQuotaUnlimited,
                                              hr.ThroughRegistry):
    pass


class TestMemberSchemasThroughRegistry(members.TestMemberSchemas,
                                       hr.ThroughRegistry):
    pass


class TestUploadDownloadThroughRegistry(data.TestUploadDownload,
                                        hr.ThroughRegistry):
    pass


class TestPatchLocationsThroughRegistry(locations.TestPatchLocations,
                                        hr.ThroughRegistry):
    pass


class TestNamespacesThroughRegistry(metadefs.TestNamespacesSQLite,
                                    hr.ThroughRegistry):
    pass


class TestMetadefContentThroughRegistry(metadefs.TestContentSQLite,
                                        hr.ThroughRegistry):
    pass
