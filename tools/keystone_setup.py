#!/usr/bin/env python3
"""Create the accounts of the local test Keystone, idempotently.

Talks to the identity v3 API as the bootstrap administrator and makes sure
that these exist (creating what is missing, leaving the rest alone):

* roles admin, member, reader and service;
* project ``service`` with the service user of glance's
  ``[keystone_authtoken]`` (roles admin and service);
* the test projects and users of ``TEST_ACCOUNTS`` (one password for all);
* with ``--image-url``: an ``image`` service whose public, internal and
  admin endpoints point at that URL (moved there if they pointed
  elsewhere).

Standard library only, so any python3 can run it.
"""

import argparse
import json
import sys
import urllib.error
import urllib.request

# (user, project, role).  Keystone's bootstrap makes admin imply member
# and member imply reader, so tokens carry the implied roles too.
TEST_ACCOUNTS = (
    ('glance-a-reader', 'glance-test-a', 'reader'),
    ('glance-a-member', 'glance-test-a', 'member'),
    ('glance-b-member', 'glance-test-b', 'member'),
    ('glance-c-admin', 'glance-test-c', 'admin'),
)


class KeystoneError(Exception):
    pass


class Identity:
    """A tiny identity v3 client."""

    def __init__(self, url):
        self.url = url.rstrip('/')
        self.token = None

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data,
                                     method=method)
        req.add_header('Content-Type', 'application/json')
        if self.token:
            req.add_header('X-Auth-Token', self.token)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                raw = resp.read()
                return (json.loads(raw) if raw else {}), resp.headers
        except urllib.error.HTTPError as exc:
            raise KeystoneError('%s %s: %s %s' % (
                method, path, exc.code, exc.read()[:300].decode(
                    'utf-8', 'replace')))

    def login(self, user, password, project):
        scope = {'project': {'name': project, 'domain': {'id': 'default'}}}
        ident = {'methods': ['password'], 'password': {'user': {
            'name': user, 'domain': {'id': 'default'},
            'password': password}}}
        _, headers = self.call('POST', '/auth/tokens', {
            'auth': {'identity': ident, 'scope': scope}})
        self.token = headers['X-Subject-Token']

    def can_login(self, user, password, project):
        try:
            Identity(self.url).login(user, password, project)
            return True
        except KeystoneError:
            return False

    def lookup(self, kind, **filters):
        query = '&'.join('%s=%s' % item for item in sorted(filters.items()))
        body, _ = self.call('GET', '/%s%s' % (kind, query and '?' + query))
        return body[kind]

    def ensure(self, kind, name, **attrs):
        """The id of the ``kind`` named ``name``, created when missing."""
        found = self.lookup(kind, name=name)
        if found:
            return found[0]['id'], False
        body, _ = self.call('POST', '/' + kind,
                            {kind[:-1]: dict(attrs, name=name)})
        return body[kind[:-1]]['id'], True


class Setup:

    def __init__(self, identity, say):
        self.ks = identity
        self.say = say
        self.roles = {}

    def role(self, name):
        if name not in self.roles:
            self.roles[name], new = self.ks.ensure('roles', name)
            if new:
                self.say('created role %s' % name)
        return self.roles[name]

    def project(self, name):
        pid, new = self.ks.ensure('projects', name, domain_id='default',
                                  description='glance tests')
        if new:
            self.say('created project %s' % name)
        return pid

    def user(self, name, password, project, roles):
        project_id = self.project(project)
        uid, new = self.ks.ensure('users', name, domain_id='default',
                                  password=password, enabled=True,
                                  default_project_id=project_id)
        if new:
            self.say('created user %s' % name)
        elif not self.ks.can_login(name, password, project):
            # Reset only a password that does not work: a change revokes
            # the tokens that running servers hold for this user.
            self.ks.call('PATCH', '/users/%s' % uid, {'user': {
                'password': password, 'enabled': True}})
            self.say('reset the password of %s' % name)
        for role in roles:
            self.ks.call('PUT', '/projects/%s/users/%s/roles/%s' % (
                project_id, uid, self.role(role)))
        return uid

    def image_endpoints(self, url, region):
        services = self.ks.lookup('services', type='image')
        if services:
            service_id = services[0]['id']
        else:
            body, _ = self.ks.call('POST', '/services', {'service': {
                'name': 'glance', 'type': 'image', 'enabled': True}})
            service_id = body['service']['id']
            self.say('created service glance (image)')
        existing = self.ks.lookup('endpoints', service_id=service_id)
        for interface in ('public', 'internal', 'admin'):
            mine = [e for e in existing if e['interface'] == interface
                    and e.get('region_id') == region]
            for extra in mine[1:]:
                self.ks.call('DELETE', '/endpoints/%s' % extra['id'])
            if not mine:
                self.ks.call('POST', '/endpoints', {'endpoint': {
                    'service_id': service_id, 'interface': interface,
                    'region_id': region, 'url': url, 'enabled': True}})
            elif mine[0]['url'] != url:
                self.ks.call('PATCH', '/endpoints/%s' % mine[0]['id'],
                             {'endpoint': {'url': url}})
            else:
                continue
            self.say('image %s endpoint -> %s' % (interface, url))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--url', required=True, help='identity v3 URL')
    parser.add_argument('--admin-password', required=True)
    parser.add_argument('--service-user', default='glance')
    parser.add_argument('--service-password', required=True)
    parser.add_argument('--test-password', required=True)
    parser.add_argument('--image-url')
    parser.add_argument('--region', default='RegionOne')
    args = parser.parse_args()

    def say(text):
        print('keystone: %s' % text, file=sys.stderr)

    ks = Identity(args.url)
    try:
        ks.login('admin', args.admin_password, 'admin')
        setup = Setup(ks, say)
        for role in ('admin', 'member', 'reader', 'service'):
            setup.role(role)
        setup.user(args.service_user, args.service_password, 'service',
                   ('admin', 'service'))
        for user, project, role in TEST_ACCOUNTS:
            setup.user(user, args.test_password, project, (role,))
        if args.image_url:
            setup.image_endpoints(args.image_url.rstrip('/'), args.region)
    except (KeystoneError, OSError) as exc:
        say('account setup failed: %s' % exc)
        return 1
    say('accounts ready: service user %s (project service); test users %s'
        % (args.service_user, ', '.join(
            '%s (%s on %s)' % (user, role, project)
            for user, project, role in TEST_ACCOUNTS)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
