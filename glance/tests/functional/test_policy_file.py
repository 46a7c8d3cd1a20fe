"""An operator's policy file changes the daemon's decisions.

The daemon reads ``[oslo_policy] policy_file`` at start and looks at it
again while it runs, so an edited file applies without a restart. Rules
the file does not name keep their defaults. The shipped
``etc/policy.yaml.sample`` names every rule with its default.
"""

import os
import shutil
import tempfile
import time

import requests
import yaml

from glance.tests.functional import base
from glance.tests.functional import helpers_daemon as hd
from glance.tests.functional import helpers_images as h

SAMPLE = os.path.join(base.ROOT, 'etc', 'policy.yaml.sample')

# Every rule of the Image API (base, image, member, cache, task and
# metadata definition rules), as an operator's policy file may name them.
RULE_NAMES = """
default context_is_admin service_api
add_image get_image get_images modify_image delete_image publicize_image
communitize_image upload_image download_image download_from_store
copy_image deactivate reactivate get_image_location set_image_location
delete_image_location add_image_location fetch_image_location
stores_info_detail
add_member delete_member get_member get_members modify_member
manage_image_cache cache_image cache_list cache_delete cache_clean
cache_prune list_cached_nodes
tasks_api_access get_task get_tasks add_task modify_task
metadef_default metadef_admin
get_metadef_namespace get_metadef_namespaces add_metadef_namespace
modify_metadef_namespace delete_metadef_namespace
get_metadef_object get_metadef_objects add_metadef_object
modify_metadef_object delete_metadef_object
get_metadef_property get_metadef_properties add_metadef_property
modify_metadef_property remove_metadef_property
get_metadef_tag get_metadef_tags add_metadef_tag add_metadef_tags
modify_metadef_tag delete_metadef_tag delete_metadef_tags
list_metadef_resource_types get_metadef_resource_type
add_metadef_resource_type_association
remove_metadef_resource_type_association
""".split()

# How long an edited policy file may take to apply.
RELOAD_PATIENCE = 15


def sample_rules():
    """The sample with its rules uncommented, as a dict."""
    with open(SAMPLE) as f:
        lines = [line[1:] if line.startswith('#"') else line
                 for line in f]
    return yaml.safe_load(''.join(lines))


class PolicyFileTest(h.ImageAPIMixin, base.SharedDaemonTest):
    """One daemon per class, started with ``policy`` as its policy file."""

    policy = {}

    @classmethod
    def setUpClass(cls):
        cls.policy_dir = tempfile.mkdtemp(prefix='glance-policy-')
        cls.policy_path = os.path.join(cls.policy_dir, 'policy.yaml')
        cls.write_policy(cls.policy)
        cls.options = dict(cls.options,
                           **{'oslo_policy.policy_file': cls.policy_path})
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.policy_dir, True)

    @classmethod
    def write_policy(cls, rules):
        # Write a new file and move it in place, as editors and config
        # management do; make its mtime differ from the previous one even
        # on coarse-grained file systems.
        tmp = cls.policy_path + '.new'
        with open(tmp, 'w') as f:
            yaml.safe_dump(rules, f)
        stamp = time.time() + getattr(cls, '_edits', 0) + 2
        cls._edits = getattr(cls, '_edits', 0) + 2
        os.utime(tmp, (stamp, stamp))
        os.replace(tmp, cls.policy_path)

    def reader(self):
        return self.headers(roles='reader')

    def admin(self):
        return self.headers(project=h.new_project(),
                            roles='admin,member,reader')

    def fresh_status(self, method, path, headers, **kwargs):
        """Status of a request on a new connection (any worker)."""
        resp = requests.request(method, self.url + path, headers=headers,
                                timeout=30, **kwargs)
        return resp.status_code

    def wait_status(self, expected, method, path, headers, **kwargs):
        deadline = time.time() + RELOAD_PATIENCE
        while True:
            status = self.fresh_status(method, path, headers, **kwargs)
            if status == expected:
                return
            if time.time() > deadline:
                self.fail('%s %s still answers %s, not %s'
                          % (method, path, status, expected))
            time.sleep(0.2)


class TestOverrides(PolicyFileTest):
    policy = {
        # Readers may create images of their own project.
        'add_image': 'role:reader and project_id:%(owner)s',
        # Nobody lists images, not even an administrator.
        'get_images': '!',
        # Deleting takes an extra property saying so.
        'delete_image': "rule:context_is_admin or (role:member and "
                        "project_id:%(project_id)s and "
                        "'yes':%(deletable)s)",
        # A custom rule referenced by another one.
        'image_publisher': 'role:publisher',
        'publicize_image': 'rule:image_publisher',
    }

    def test_reader_may_create(self):
        image = self.new_image(name='by-reader', headers=self.reader())
        self.assertEqual(self.project, image['owner'])
        # ... but not for another project.
        resp = self.request('POST', '/v2/images',
                            json={'owner': h.new_project()},
                            headers=self.reader())
        self.assertEqual(403, resp.status_code, resp.text)
        # Other rules keep their defaults: the reader may not change it.
        self.patch_image(image['id'], [{'op': 'replace', 'path': '/name',
                                        'value': 'x'}],
                         headers=self.reader(), status=403)

    def test_nobody_lists(self):
        image = self.new_image()
        for who in (self.headers(), self.reader(), self.admin(), {}):
            resp = self.request('GET', '/v2/images', headers=who)
            self.assertEqual(403, resp.status_code, resp.text)
        # Showing one image is another rule.
        self.assertEqual(image['id'], self.show(image['id'])['id'])

    def test_rule_on_an_extra_property(self):
        plain = self.new_image()
        marked = self.new_image(deletable='yes')
        resp = self.request('DELETE', '/v2/images/%s' % plain['id'])
        self.assertEqual(403, resp.status_code, resp.text)
        resp = self.request('DELETE', '/v2/images/%s' % marked['id'])
        self.assertEqual(204, resp.status_code, resp.text)
        # Once marked, the first one goes too.
        self.patch_image(plain['id'], [{'op': 'add', 'path': '/deletable',
                                        'value': 'yes'}])
        resp = self.request('DELETE', '/v2/images/%s' % plain['id'])
        self.assertEqual(204, resp.status_code, resp.text)

    def test_custom_role_publishes(self):
        publisher = self.headers(roles='publisher,member,reader')
        image = self.new_image(visibility='public', headers=publisher)
        self.assertEqual('public', image['visibility'])
        # The admin role no longer suffices.
        resp = self.request('POST', '/v2/images',
                            json={'visibility': 'public'},
                            headers=self.admin())
        self.assertEqual(403, resp.status_code, resp.text)


class TestAdministratorRule(PolicyFileTest):
    policy = {'context_is_admin': 'role:cloud_admin'}

    def test_context_is_admin_decides_who_is_admin(self):
        image = self.new_image(visibility='private')
        cloud_admin = self.headers(project=h.new_project(),
                                   roles='cloud_admin,member,reader')
        plain_admin = self.headers(project=h.new_project(),
                                   roles='admin,member,reader')
        resp = self.request('GET', '/v2/images/%s' % image['id'],
                            headers=plain_admin)
        self.assertEqual(404, resp.status_code, resp.text)
        resp = self.request('GET', '/v2/images/%s' % image['id'],
                            headers=cloud_admin)
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertIn(image['id'], self.list_ids('owner=' + self.project,
                                                 headers=cloud_admin))
        self.assertNotIn(image['id'], self.list_ids(
            'owner=' + self.project, headers=plain_admin))


class TestReload(PolicyFileTest):
    """The file is edited while the daemon runs (with two workers, which
    must both notice)."""

    workers = 2
    policy = {'get_images': '!'}

    def setUp(self):
        super().setUp()
        self.addCleanup(self.restore)

    def restore(self):
        self.write_policy(self.policy)
        self.wait_everywhere(403, '/v2/images', self.headers())

    def wait_everywhere(self, expected, path, headers):
        """Wait until every worker answers GET ``path`` with ``expected``:
        each is asked again, on a keep-alive connection it serves, until
        it does."""
        head = ''.join('%s: %s\r\n' % item for item in headers.items())
        request = ('GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n'
                   % (path, head)).encode()
        workers = hd.worker_pids(self.daemon.proc.pid)
        self.assertEqual(self.workers, len(workers))
        pending = set(workers)
        deadline = time.monotonic() + RELOAD_PATIENCE
        while pending:
            self.assertLess(time.monotonic(), deadline,
                            'workers %s still answer otherwise' % pending)
            with hd.connect(self.daemon.port) as sock:
                while True:
                    sock.sendall(request)
                    status = hd.read_response(sock)[0]
                    pid = hd.server_of(sock, workers)
                    if status == expected or time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
            if status == expected:
                pending.discard(pid)

    def assert_everywhere(self, expected, method, path, headers, **kwargs):
        """Several fresh connections, to reach every worker."""
        for _ in range(8):
            self.assertEqual(expected, self.fresh_status(
                method, path, headers, **kwargs), path)

    def test_edit_applies_without_restart(self):
        pid = self.daemon.proc.pid
        self.assert_everywhere(403, 'GET', '/v2/images', self.headers())
        self.write_policy({'get_images': '',
                           'add_image': 'role:reader'})
        self.wait_everywhere(200, '/v2/images', self.headers())
        self.assert_everywhere(200, 'GET', '/v2/images', self.headers())
        self.assert_everywhere(201, 'POST', '/v2/images', self.reader(),
                               json={})
        # Back to the first file: listing refused, readers refused.
        self.write_policy(self.policy)
        self.wait_everywhere(403, '/v2/images', self.headers())
        self.assert_everywhere(403, 'GET', '/v2/images', self.headers())
        self.assert_everywhere(403, 'POST', '/v2/images', self.reader(),
                               json={})
        self.assertEqual(pid, self.daemon.proc.pid)
        self.assertIsNone(self.daemon.proc.poll())

    def test_emptied_file_restores_defaults(self):
        self.write_policy({})
        self.wait_everywhere(200, '/v2/images', self.headers())
        self.assert_everywhere(200, 'GET', '/v2/images', self.headers())
        self.assert_everywhere(403, 'POST', '/v2/images', self.reader(),
                               json={})


class TestSampleFile(PolicyFileTest):
    """The uncommented sample, used as the policy file, changes nothing."""

    @classmethod
    def setUpClass(cls):
        cls.policy = sample_rules()
        super().setUpClass()

    def test_sample_names_every_rule(self):
        rules = sample_rules()
        missing = sorted(set(RULE_NAMES) - set(rules))
        self.assertEqual([], missing)
        unknown = sorted(set(rules) - set(RULE_NAMES))
        self.assertEqual([], unknown)
        for name in RULE_NAMES:
            self.assertIsInstance(rules[name], str, name)
        self.assertEqual('role:admin', rules['context_is_admin'])
        self.assertEqual('rule:context_is_admin', rules['publicize_image'])
        self.assertEqual('rule:context_is_admin', rules['metadef_admin'])
        with open(SAMPLE) as f:
            text = f.read()
        # Everything is commented out: the sample changes nothing as is.
        self.assertEqual({}, yaml.safe_load(text) or {})

    def test_sample_matches_the_defaults(self):
        image = self.new_image()
        resp = self.request('POST', '/v2/images', json={},
                            headers=self.reader())
        self.assertEqual(403, resp.status_code, resp.text)
        resp = self.request('POST', '/v2/images',
                            json={'visibility': 'public'})
        self.assertEqual(403, resp.status_code, resp.text)
        self.assertEqual([image['id']], self.list_ids(headers=self.reader()))
        other = self.headers(project=h.new_project())
        resp = self.request('GET', '/v2/images/%s' % image['id'],
                            headers=other)
        self.assertEqual(404, resp.status_code, resp.text)
        resp = self.request('GET', '/v2/images/%s' % image['id'],
                            headers=self.admin())
        self.assertEqual(200, resp.status_code, resp.text)


UPSTREAM_POLICY = os.path.join(base.ROOT, 'glance', 'tests', 'unit',
                               'domain', 'data', 'upstream-policy.yaml')


class TestUpstreamPolicyFile(PolicyFileTest):
    """Upstream's full policy file (every rule at upstream's default) and
    a policy_dirs file overriding one rule in the older list form."""

    @classmethod
    def setUpClass(cls):
        with open(UPSTREAM_POLICY) as f:
            cls.policy = yaml.safe_load(f)
        cls.policy_d = tempfile.mkdtemp(prefix='glance-policy-d-')
        with open(os.path.join(cls.policy_d, 'lister.yaml'), 'w') as f:
            yaml.safe_dump({'get_images': [['role:admin'],
                                           ['role:reader', 'user_id:lister']]},
                           f)
        cls.options = dict(cls.options,
                           **{'oslo_policy.policy_dirs': cls.policy_d})
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.policy_d, True)

    def test_upstream_defaults_hold(self):
        self.assertEqual(67, len(self.policy))
        image = self.new_image()
        resp = self.request('POST', '/v2/images', json={},
                            headers=self.reader())
        self.assertEqual(403, resp.status_code, resp.text)
        other = self.headers(project=h.new_project())
        resp = self.request('GET', '/v2/images/%s' % image['id'],
                            headers=other)
        self.assertEqual(404, resp.status_code, resp.text)
        resp = self.request('GET', '/v2/images/%s' % image['id'],
                            headers=self.admin())
        self.assertEqual(200, resp.status_code, resp.text)

    def test_policy_dirs_list_form_rule(self):
        image = self.new_image()
        resp = self.request('GET', '/v2/images', headers=self.reader())
        self.assertEqual(403, resp.status_code, resp.text)
        lister = self.headers(roles='reader', user='lister')
        self.assertEqual([image['id']], self.list_ids(headers=lister))
        resp = self.request('GET', '/v2/images', headers=self.admin())
        self.assertEqual(200, resp.status_code, resp.text)
