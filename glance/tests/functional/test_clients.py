"""Real OpenStack clients against the daemon in its default (no Keystone)
mode: the glance CLI, the glanceclient Python API and openstacksdk.
Metadata operations only (no image data)."""

import hashlib
import os
import pty
import re
import subprocess
import time
import uuid

from glance.tests.functional import base

GLANCE_CLI = os.path.join(os.path.dirname(__import__('sys').executable),
                          'glance')


def parse_table(text):
    """The two-column prettytable glanceclient prints, as a dict."""
    rows = {}
    for line in text.splitlines():
        match = re.match(r'^\|\s*(\S.*?)\s*\|\s*(.*?)\s*\|$', line)
        if match and match.group(1) not in ('Property', 'Field'):
            rows[match.group(1)] = match.group(2)
    return rows


class CLITest(base.SharedDaemonTest):
    """Runs the ``glance`` command, as an operator does."""

    def glance(self, *args, expect_ok=True):
        # A terminal on stdin: otherwise image-create would read image
        # data from it.
        master, slave = pty.openpty()
        try:
            proc = subprocess.run(
                [GLANCE_CLI, '--os-image-url', self.url,
                 '--os-auth-token', 'x'] + list(args),
                stdin=slave, capture_output=True, text=True, timeout=120,
                env={k: v for k, v in os.environ.items()
                     if not k.startswith('OS_')})
        finally:
            os.close(master)
            os.close(slave)
        if expect_ok:
            self.assertEqual(0, proc.returncode,
                             'glance %s: %s %s' % (' '.join(args),
                                                   proc.stdout, proc.stderr))
        return proc


class TestGlanceCLI(CLITest):
    """The ``glance`` command, as an operator runs it."""

    def test_image_lifecycle(self):
        name = 'cli-%s' % uuid.uuid4().hex[:8]
        out = self.glance('image-create', '--name', name,
                          '--disk-format', 'qcow2',
                          '--container-format', 'bare',
                          '--property', 'color=blue').stdout
        table = parse_table(out)
        image_id = table['id']
        self.assertEqual(name, table['name'])
        self.assertEqual('queued', table['status'])
        self.assertEqual('blue', table['color'])
        self.addCleanup(self.request, 'DELETE', '/v2/images/' + image_id,
                        headers={})

        listing = self.glance('image-list').stdout
        self.assertIn(image_id, listing)
        self.assertIn(name, listing)

        shown = parse_table(self.glance('image-show', image_id).stdout)
        self.assertEqual(image_id, shown['id'])
        self.assertEqual('qcow2', shown['disk_format'])

        updated = parse_table(self.glance(
            'image-update', image_id, '--name', name + '-new',
            '--property', 'color=red', '--property', 'size_hint=7',
            '--min-ram', '64').stdout)
        self.assertEqual(name + '-new', updated['name'])
        self.assertEqual('red', updated['color'])
        self.assertEqual('7', updated['size_hint'])
        self.assertEqual('64', updated['min_ram'])

        self.glance('image-update', image_id, '--remove-property', 'color')
        shown = parse_table(self.glance('image-show', image_id).stdout)
        self.assertNotIn('color', shown)

        self.glance('image-tag-update', image_id, 'gold')
        self.glance('image-tag-update', image_id, 'silver')
        tags = self.request('GET', '/v2/images/' + image_id,
                            headers={}).json()['tags']
        self.assertEqual(['gold', 'silver'], sorted(tags))
        self.glance('image-tag-delete', image_id, 'gold')
        tags = self.request('GET', '/v2/images/' + image_id,
                            headers={}).json()['tags']
        self.assertEqual(['silver'], tags)

        filtered = self.glance('image-list', '--tag', 'silver').stdout
        self.assertIn(image_id, filtered)

        self.glance('image-delete', image_id)
        proc = self.glance('image-show', image_id, expect_ok=False)
        self.assertNotEqual(0, proc.returncode)
        self.assertIn('404', proc.stdout + proc.stderr)


class TestGlanceClientAPI(base.SharedDaemonTest):
    """glanceclient.Client('2', endpoint=..., token=...)."""

    def client(self):
        import glanceclient
        return glanceclient.Client('2', endpoint=self.url, token='x')

    def test_image_lifecycle(self):
        from glanceclient import exc
        gc = self.client()
        name = 'api-%s' % uuid.uuid4().hex[:8]
        image = gc.images.create(name=name, disk_format='raw',
                                 container_format='bare', flavour='mint')
        self.addCleanup(self.request, 'DELETE', '/v2/images/' + image.id,
                        headers={})
        self.assertEqual(name, image.name)
        self.assertEqual('queued', image.status)
        self.assertEqual('mint', image.flavour)

        self.assertIn(image.id, [i.id for i in gc.images.list()])
        filtered = list(gc.images.list(filters={'name': name}))
        self.assertEqual([image.id], [i.id for i in filtered])

        got = gc.images.get(image.id)
        self.assertEqual('raw', got.disk_format)

        updated = gc.images.update(image.id, name=name + '-2',
                                   remove_props=['flavour'], shape='round')
        self.assertEqual(name + '-2', updated.name)
        self.assertEqual('round', updated.shape)
        self.assertNotIn('flavour', updated)

        gc.image_tags.update(image.id, 'blue')
        self.assertEqual(['blue'], gc.images.get(image.id).tags)
        gc.image_tags.delete(image.id, 'blue')
        self.assertEqual([], gc.images.get(image.id).tags)

        gc.images.delete(image.id)
        self.assertRaises(exc.HTTPNotFound, gc.images.get, image.id)

    def test_pagination_and_schema(self):
        gc = self.client()
        ids = set()
        for i in range(5):
            img = gc.images.create(name='page-%d' % i,
                                   tags=[self.project])
            ids.add(img.id)
            self.addCleanup(self.request, 'DELETE', '/v2/images/' + img.id,
                            headers={})
        # page_size 2: the client follows the "next" links.
        seen = [i.id for i in gc.images.list(
            page_size=2, filters={'tag': [self.project]})]
        self.assertEqual(5, len(seen))
        self.assertEqual(ids, set(seen))
        schema = gc.schemas.get('image')
        self.assertEqual('image', schema.name)
        self.assertIn('disk_format', schema.raw()['properties'])


class TestOpenStackSDK(base.SharedDaemonTest):
    """openstacksdk with auth_type none and an endpoint override."""

    def connect(self, endpoint):
        import openstack
        return openstack.connect(auth_type='none',
                                 image_endpoint_override=endpoint,
                                 load_yaml_config=False,
                                 load_envvars=False)

    def test_image_lifecycle_unversioned_endpoint(self):
        conn = self.connect(self.url)
        name = 'sdk-%s' % uuid.uuid4().hex[:8]
        # The SDK looks for an image of that name first (os_hidden=True
        # listing), then creates one without data.
        image = conn.image.create_image(name=name, disk_format='qcow2',
                                        container_format='bare',
                                        wait=False)
        self.addCleanup(self.request, 'DELETE', '/v2/images/' + image.id,
                        headers={})
        self.assertEqual(name, image.name)
        self.assertEqual('queued', image.status)

        self.assertIn(image.id, [i.id for i in conn.image.images()])
        self.assertEqual(image.id, conn.image.find_image(name).id)
        got = conn.image.get_image(image.id)
        self.assertEqual('qcow2', got.disk_format)

        updated = conn.image.update_image(image.id, name=name + '-2',
                                          min_ram=128, colour='green')
        self.assertEqual(name + '-2', updated.name)
        self.assertEqual(128, updated.min_ram)
        self.assertEqual('green', updated.properties['colour'])

        conn.image.add_tag(image.id, 'sdk-tag')
        self.assertIn('sdk-tag', conn.image.get_image(image.id).tags)
        conn.image.remove_tag(image.id, 'sdk-tag')
        self.assertNotIn('sdk-tag', conn.image.get_image(image.id).tags)

        conn.image.delete_image(image.id)
        self.assertIsNone(conn.image.find_image(image.id,
                                                ignore_missing=True))

    def test_metadata_without_duplicate_lookup(self):
        # The lower level: no name lookup, plain create/list/get/delete.
        from openstack.image.v2 import image as sdk_image
        conn = self.connect(self.url)
        name = 'sdk-raw-%s' % uuid.uuid4().hex[:8]
        image = conn.image._create(sdk_image.Image, name=name,
                                   disk_format='raw',
                                   container_format='bare')
        self.addCleanup(self.request, 'DELETE', '/v2/images/' + image.id,
                        headers={})
        listed = [i for i in conn.image.images(name=name)]
        self.assertEqual([image.id], [i.id for i in listed])
        conn.image.delete_image(image.id)
        self.assertEqual([], list(conn.image.images(name=name)))

    def test_hidden_images_listing(self):
        # openstacksdk sends os_hidden=True (capitalised) when it looks an
        # image up by name; the API accepts boolean query values in any
        # case.
        resp = self.request('GET', '/v2/images?os_hidden=True',
                            headers={})
        self.assertEqual(200, resp.status_code, resp.text)
        resp = self.request('GET', '/v2/images?os_hidden=FALSE',
                            headers={})
        self.assertEqual(200, resp.status_code, resp.text)


class TestGlanceCLIImport(CLITest):
    """The import commands of the ``glance`` client."""

    def data_file(self, data):
        path = os.path.join(self.workdir, 'data-%s' % uuid.uuid4().hex[:8])
        with open(path, 'wb') as f:
            f.write(data)
        return path

    def wait_active(self, image_id):
        for _ in range(100):
            table = parse_table(self.glance('image-show', image_id).stdout)
            if table['status'] == 'active':
                return table
            time.sleep(0.1)
        self.fail('image %s not active: %s' % (image_id, table))

    def test_create_via_import(self):
        data = os.urandom(200000)
        out = self.glance('image-create-via-import', '--name', 'via-import',
                          '--disk-format', 'raw', '--container-format',
                          'bare', '--import-method', 'glance-direct',
                          '--file', self.data_file(data)).stdout
        table = self.wait_active(parse_table(out)['id'])
        self.assertEqual(hashlib.md5(data).hexdigest(), table['checksum'])

    def test_stage_then_import(self):
        data = os.urandom(100000)
        out = self.glance('image-create', '--name', 'staged',
                          '--disk-format', 'raw',
                          '--container-format', 'bare').stdout
        image_id = parse_table(out)['id']
        self.glance('image-stage', '--file', self.data_file(data), image_id)
        self.assertEqual('uploading', parse_table(
            self.glance('image-show', image_id).stdout)['status'])
        self.glance('image-import', '--import-method', 'glance-direct',
                    image_id)
        self.wait_active(image_id)
        out = os.path.join(self.workdir, 'out-%s' % image_id)
        self.glance('image-download', '--file', out, image_id)
        with open(out, 'rb') as f:
            self.assertEqual(data, f.read())
