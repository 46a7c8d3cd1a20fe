"""Operators' paste pipelines: the filters every request needs are added
when a pipeline leaves them out (with a warning in the log), and a
pipeline naming a filter that does not exist stops the start with a clear
message and the exit code of a configuration error."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid

import testtools

from glance.tests.functional import base

# The exit code of a configuration error (cfg.ConfigFileValueError, see
# glance.cmd.startup).
CONFIG_ERROR = 5


def custom_paste(workdir, extra='', **pipelines):
    """The shipped paste file with the [composite:api] pipelines replaced
    by ``pipelines`` (flavor=names) and ``extra`` sections appended."""
    with open(base.PASTE) as f:
        text = f.read()
    for flavor, names in pipelines.items():
        text, count = re.subn(r'(?m)^%s = .*$' % flavor,
                              '%s = %s' % (flavor, names), text)
        assert count == 1, flavor
    path = os.path.join(workdir, 'custom-paste-%s.ini' % uuid.uuid4().hex[:6])
    with open(path, 'w') as f:
        f.write(text + extra)
    return path


class PipelineTest(base.FunctionalTest):

    pipelines = {}
    extra = ''

    def make_daemon(self, **kwargs):
        daemon = super().make_daemon(**kwargs)
        paste = custom_paste(self.workdir, self.extra, **self.pipelines)
        with open(daemon.conf) as f:
            conf = f.read()
        with open(daemon.conf, 'w') as f:
            f.write(conf.replace(base.PASTE, paste))
        return daemon

    def log(self):
        with open(self.daemon.log) as f:
            return f.read()


class TestMissingFilters(PipelineTest):
    """Default flavor: only CORS, a renamed request id filter and the app."""

    pipelines = {'default': 'cors my-request-id rootapp'}
    extra = ('\n[filter:my-request-id]\npaste.filter_factory = '
             'glance.api.middleware.request_id:filter_factory\n')

    def test_required_filters_are_added(self):
        # Version negotiation: /versions answers 200 and /v2.9 is /v2.
        resp = self.request('GET', '/versions')
        self.assertEqual(200, resp.status_code, resp.text)
        resp = self.request('GET', '/v2.9/images')
        self.assertEqual(200, resp.status_code, resp.text)
        # A request id, made by the operator's renamed filter, once.
        self.assertTrue(resp.headers['x-openstack-request-id']
                        .startswith('req-'))
        # The header-based context of the default flavor.
        image = self.create_image(headers=self.headers('proj-a'),
                                  name='owned')
        self.assertEqual('proj-a', image['owner'])
        anonymous = self.create_image(name='noauth')
        self.assertEqual('admin', anonymous['owner'])

        log = self.log()
        self.assertIn("Paste pipeline 'default' has no versionnegotiation "
                      "filter", log)
        self.assertIn("Paste pipeline 'default' has no "
                      "unauthenticated-context filter", log)
        self.assertIn('the pipeline is now: cors my-request-id '
                      'versionnegotiation unauthenticated-context rootapp',
                      log)
        # Recognised by its factory, not its name.
        self.assertNotIn('has no request_id filter', log)
        for line in log.splitlines():
            if 'has no' in line:
                self.assertIn(' WARNING ', line)


class TestMissingFiltersFakeauth(PipelineTest):
    """The fakeauth flavor gets its authenticator and the context filter
    that reads what it sets, not the header-based context."""

    flavor = 'fakeauth'
    pipelines = {'fakeauth': 'rootapp'}

    def test_flavor_context_is_added(self):
        resp = self.request('GET', '/v2/images')
        self.assertEqual(401, resp.status_code, self.log()[-4000:])
        token = {'X-Auth-Token': 'alice:proj-b:member,reader'}
        resp = self.request('POST', '/v2/images', json={'name': 'fa'},
                            headers=token)
        self.assertEqual(201, resp.status_code, resp.text)
        self.assertEqual('proj-b', resp.json()['owner'])
        self.assertIn('x-openstack-request-id', resp.headers)
        self.assertEqual(200, self.request('GET', '/versions').status_code)
        self.assertIn('the pipeline is now: request_id versionnegotiation '
                      'fakeauth context rootapp', self.log())


class TestUnknownFilter(testtools.TestCase):
    """A pipeline that cannot be built: no daemon starts."""

    def setUp(self):
        super().setUp()
        self.workdir = tempfile.mkdtemp(prefix='glance-test-')
        self.addCleanup(shutil.rmtree, self.workdir, True)

    def start(self, paste):
        daemon = base.Daemon(
            self.workdir, 'sqlite:///%s/glance.sqlite' % self.workdir,
            options={'paste_deploy.config_file': paste})
        proc = subprocess.run(
            [sys.executable, '-m', 'glance.cmd.api', '--config-file',
             daemon.conf], cwd=base.ROOT, capture_output=True, text=True,
            timeout=60)
        self.assertFalse(base.server_answers(daemon.url))
        self.assertNotIn('Traceback', proc.stderr + proc.stdout)
        return proc

    def test_unknown_filter_name(self):
        paste = custom_paste(
            self.workdir,
            default='request_id versionnegotiation no-such-filter '
                    'unauthenticated-context rootapp')
        proc = self.start(paste)
        self.assertEqual(CONFIG_ERROR, proc.returncode, proc.stderr)
        self.assertIn("ERROR: Paste pipeline 'default' names the filter "
                      "'no-such-filter', which %s does not define "
                      "(no [filter:no-such-filter] section)" % paste,
                      proc.stderr)

    def test_filter_factory_that_cannot_be_imported(self):
        paste = custom_paste(
            self.workdir, default='request_id broken rootapp',
            extra='\n[filter:broken]\npaste.filter_factory = '
                  'glance.api.middleware.no_such_module:filter_factory\n')
        proc = self.start(paste)
        self.assertEqual(CONFIG_ERROR, proc.returncode, proc.stderr)
        self.assertIn("ERROR: Paste pipeline 'default': the filter 'broken' "
                      "cannot be loaded", proc.stderr)
