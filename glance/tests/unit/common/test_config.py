"""glance.common.config: option registration, paste lookup and loading."""

import os
import subprocess
import sys

import fixtures
import webob
from oslo_config import cfg

from glance.common import config
from glance.tests.unit import base

CONF = cfg.CONF
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))))
PASTE = os.path.join(ROOT, 'etc', 'glance-api-paste.ini')


class TestOptions(base.TestCase):

    def test_upstream_defaults(self):
        self.assertEqual(9292, CONF.bind_port)
        self.assertEqual('0.0.0.0', CONF.bind_host)
        self.assertEqual(25, CONF.limit_param_default)
        self.assertEqual(1000, CONF.api_limit_max)
        self.assertEqual(64, CONF.max_request_id_length)
        self.assertEqual(128, CONF.image_tag_quota)
        self.assertEqual(128, CONF.image_property_quota)
        self.assertFalse(CONF.show_multiple_locations)
        self.assertFalse(CONF.show_image_direct_url)
        self.assertFalse(CONF.allow_anonymous_access)
        self.assertIsNone(CONF.workers)
        self.assertEqual(['glance-direct', 'web-download', 'copy-image'],
                         CONF.enabled_import_methods)

    def test_grouped_options(self):
        self.assertEqual('admin', CONF.noauth.project_id)
        self.assertEqual(['admin', 'member', 'reader'], CONF.noauth.roles)
        self.assertEqual(['member', 'reader'], CONF.noauth.header_roles)
        self.assertIn('qcow2', CONF.image_format.disk_formats)
        self.assertIn('bare', CONF.image_format.container_formats)
        self.assertIsNone(CONF.paste_deploy.flavor)
        self.assertEqual(30000, CONF.database.sqlite_busy_timeout)

    def test_list_opts_groups(self):
        groups = [g for g, _ in config.list_opts()]
        self.assertEqual([None, 'noauth', 'image_format', 'paste_deploy',
                          'database', 'wsgi',
                          'import_filtering_opts', 'task', 'image_import_opts',
                          'glance_download_properties',
                          'image_conversion', 'inject_metadata_properties'],
                         groups)

    def test_ground_floor_imports_no_store(self):
        # The store options are the store package's: reading this
        # module's must not load it (nor, through it, the rest).
        code = ('import sys; import glance.common.config; '
                'print(sorted(m for m in sys.modules if m.startswith('
                '("glance.store", "glance.db", "glance.domain"))))')
        result = subprocess.run([sys.executable, '-c', code], cwd=ROOT,
                                capture_output=True, text=True, check=True)
        self.assertEqual('[]', result.stdout.strip())

    def test_list_opts_names_are_unique_per_group(self):
        for group, opts in config.list_opts():
            names = [o.name for o in opts]
            self.assertEqual(len(names), len(set(names)), group)

    def test_import_methods_reject_unknown_method(self):
        self.assertRaises(ValueError, self.config,
                          enabled_import_methods=['bogus'])

    def test_environment_overrides(self):
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_DEFAULT__BIND_PORT', '9393'))
        CONF.reset()
        CONF([], project='glance', default_config_files=[],
             default_config_dirs=[])
        self.assertEqual(9393, CONF.bind_port)

    def test_default_workers_is_positive(self):
        self.assertGreaterEqual(config.default_workers(), 1)


class TestParseArgs(base.TestCase):

    def test_reads_config_file(self):
        path = os.path.join(self.useFixture(
            fixtures.TempDir()).path, 'glance-api.conf')
        with open(path, 'w') as f:
            f.write('[DEFAULT]\nbind_port = 9500\n'
                    '[paste_deploy]\nflavor = fakeauth\n')
        CONF.reset()
        config.parse_args([], default_config_files=[path])
        self.assertEqual(9500, CONF.bind_port)
        self.assertEqual('fakeauth', CONF.paste_deploy.flavor)


class TestFindPasteConfig(base.TestCase):

    def test_absolute_path_option(self):
        self.config(config_file=PASTE, group='paste_deploy')
        self.assertEqual(PASTE, config.find_paste_config())

    def test_missing_absolute_path(self):
        self.config(config_file='/nonexistent/paste.ini',
                    group='paste_deploy')
        self.assertRaises(RuntimeError, config.find_paste_config)

    def test_named_after_last_config_file(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        conf_path = os.path.join(tmp, 'my-api.conf')
        with open(conf_path, 'w') as f:
            f.write('[DEFAULT]\n')
        paste_path = os.path.join(tmp, 'my-api-paste.ini')
        with open(paste_path, 'w') as f:
            f.write('[app:x]\n')
        CONF.reset()
        config.parse_args(['--config-file', conf_path],
                          default_config_files=[])
        self.assertEqual(paste_path, config.find_paste_config())

    def test_nothing_found(self):
        self.useFixture(fixtures.TempDir())
        cwd = os.getcwd()
        tmp = self.useFixture(fixtures.TempDir()).path
        os.chdir(tmp)
        self.addCleanup(os.chdir, cwd)
        self.assertRaises(RuntimeError, config.find_paste_config)


class TestLoadPasteApp(base.TestCase):

    def _app(self, flavor=None):
        self.config(config_file=PASTE, group='paste_deploy')
        if flavor:
            self.config(flavor=flavor, group='paste_deploy')
        return config.load_paste_app()

    def test_default_flavor_serves_versions(self):
        app = self._app()
        resp = webob.Request.blank('/').get_response(app)
        self.assertEqual(300, resp.status_int)
        self.assertIn('x-openstack-request-id', resp.headers)

    def test_healthcheck_outside_pipeline(self):
        app = self._app()
        resp = webob.Request.blank('/healthcheck').get_response(app)
        self.assertEqual(200, resp.status_int)
        self.assertNotIn('x-openstack-request-id', resp.headers)

    def test_fakeauth_flavor_requires_token(self):
        app = self._app('fakeauth')
        resp = webob.Request.blank('/v2/schemas/image').get_response(app)
        self.assertEqual(401, resp.status_int)
        resp = webob.Request.blank(
            '/v2/schemas/image',
            headers={'X-Auth-Token': 'u:p:reader'}).get_response(app)
        self.assertEqual(200, resp.status_int)

    def test_unknown_flavor(self):
        self.assertRaises(RuntimeError, self._app, 'nosuchflavor')

    def test_keystone_flavor_wires_authtoken(self):
        # keystonemiddleware answers for requests without a token (nothing
        # listens on the auth URL; no token means it never calls out).
        from keystonemiddleware import auth_token
        for group, opts in auth_token.list_opts():
            CONF.register_opts(opts, group=group)
        self.config(www_authenticate_uri='http://127.0.0.1:1/identity',
                    group='keystone_authtoken')
        app = self._app('keystone')
        resp = webob.Request.blank('/v2/images').get_response(app)
        self.assertEqual(401, resp.status_int)
        self.assertIn('127.0.0.1:1/identity',
                      resp.headers.get('WWW-Authenticate', ''))
        resp = webob.Request.blank('/healthcheck').get_response(app)
        self.assertEqual(200, resp.status_int)


class TestCorsDefaults(base.TestCase):

    def test_set_config_defaults(self):
        from oslo_middleware import cors
        opts = {o.name: o for o in cors.CORS_OPTS}
        saved = {k: opts[k].default for k in
                 ('allow_headers', 'expose_headers', 'allow_methods')}
        self.addCleanup(cors.set_defaults, **saved)
        config.set_config_defaults()
        self.assertIn('X-OpenStack-Request-ID',
                      opts['allow_headers'].default)
        self.assertIn('X-Roles', opts['allow_headers'].default)
        self.assertIn('X-Subject-Token', opts['expose_headers'].default)
        self.assertEqual(['GET', 'PUT', 'POST', 'DELETE', 'PATCH'],
                         opts['allow_methods'].default)


class TestUpstreamConfigFiles(base.TestCase):
    """Upstream's ways of writing glance-api.conf are read the same."""

    def parse(self, text, name='glance-api.conf', extra=None):
        tmp = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(tmp, name)
        with open(path, 'w') as f:
            f.write(text)
        if extra:
            with open(os.path.join(tmp, config.IMAGE_IMPORT_CONFIG),
                      'w') as f:
                f.write(extra)
        config.parse_api_args(['--config-file', path])
        return path

    def test_lists_in_brackets(self):
        self.parse('[DEFAULT]\n'
                   "enabled_import_methods = [glance-direct,'web-download']\n"
                   '[import_filtering_opts]\n'
                   'allowed_ports = [80,8080]\n'
                   'disallowed_schemes = []\n'
                   '[image_import_opts]\n'
                   'image_import_plugins = [no_op]\n'
                   '[glance_download_properties]\n'
                   'extra_properties = [hw_,os_type]\n')
        self.assertEqual(['glance-direct', 'web-download'],
                         CONF.enabled_import_methods)
        self.assertEqual([80, 8080], CONF.import_filtering_opts.allowed_ports)
        self.assertEqual([], CONF.import_filtering_opts.disallowed_schemes)
        self.assertEqual(['no_op'],
                         CONF.image_import_opts.image_import_plugins)
        self.assertEqual(['hw_', 'os_type'],
                         CONF.glance_download_properties.extra_properties)

    def test_lists_without_brackets(self):
        self.parse('[DEFAULT]\nenabled_import_methods = glance-direct\n'
                   '[import_filtering_opts]\nallowed_ports = 443\n')
        self.assertEqual(['glance-direct'], CONF.enabled_import_methods)
        self.assertEqual([443], CONF.import_filtering_opts.allowed_ports)

    def test_deprecated_groups(self):
        self.parse('[DEFAULT]\ntask_time_to_live = 7\n'
                   'disk_formats = raw,qcow2\n')
        self.assertEqual(7, CONF.task.task_time_to_live)
        self.assertEqual(['raw', 'qcow2'], CONF.image_format.disk_formats)

    def test_image_import_config_is_read_first(self):
        path = self.parse(
            '[inject_metadata_properties]\nignore_user_roles = reader\n',
            extra='[inject_metadata_properties]\ninject = site:a\n'
                  'ignore_user_roles = admin\n')
        extra = os.path.join(os.path.dirname(path),
                             config.IMAGE_IMPORT_CONFIG)
        self.assertEqual([extra, path], CONF.config_file)
        self.assertEqual({'site': 'a'},
                         CONF.inject_metadata_properties.inject)
        # glance-api.conf wins.
        self.assertEqual(['reader'],
                         CONF.inject_metadata_properties.ignore_user_roles)

    def test_no_image_import_config(self):
        path = self.parse('[DEFAULT]\n')
        self.assertEqual([path], CONF.config_file)
