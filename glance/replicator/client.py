"""An Image API v2 client for one side of a replication.

Requests go through a keystoneauth1 session rather than
``glance.common.http_client``: the replicator needs what that module
does not do and should not grow for the service's own fetches, namely
Keystone identities (any keystoneauth1 auth plugin, token re-issue on
expiry, the image endpoint from the service catalogue), request bodies
streamed from an iterator (image data goes from the source's download
straight into the target's upload, never whole in memory nor on disk)
and kept-alive connections shared by several copying threads. The URL
vetting of ``http_client`` (no internal addresses) does not apply either:
both endpoints are the operator's own.

Failures are ``ReplicatorError`` subclasses: ``Unreachable`` (nothing
answers), ``CredentialsRefused`` (401, or Keystone refused the
credentials), ``ApiError`` (any other answer that is not the one
expected, with its status code and message).
"""

import dataclasses
import json
import logging
import re
import time
import typing
import urllib.parse

import requests
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint

from glance import version

LOG = logging.getLogger(__name__)
USER_AGENT = 'glance-replicator/%s' % version.VERSION
PATCH_TYPE = 'application/openstack-images-v2.1-json-patch'
PAGE = 1000
DEFAULT_ROLES = 'admin,member,reader'


class ReplicatorError(Exception):
    """Something a side answered, or did not, that stops an operation."""


class Unreachable(ReplicatorError):
    """The endpoint (or Keystone) does not answer."""


class CredentialsRefused(ReplicatorError):
    """The endpoint or Keystone refused the identity given."""


class ApiError(ReplicatorError):
    """An answer other than the expected one."""

    def __init__(self, message: str, status: typing.Optional[int] = None):
        super().__init__(message)
        self.status = status


@dataclasses.dataclass
class Identity:
    """How one side is reached and who the replicator is there.

    ``auth`` holds keystoneauth1 options (``auth_type`` and that
    plugin's options: ``auth_url``, ``username``, ``password``,
    ``project_name``, ...): with them the session authenticates with
    Keystone, and the image endpoint is ``url`` or, without it, the
    catalogue's. Otherwise ``token`` (when given) is sent as
    X-Auth-Token to ``url``; without either, the requests carry the
    identity headers (``project``, ``user``, ``roles``) that a
    deployment without Keystone takes its request context from.
    """
    url: typing.Optional[str] = None
    token: typing.Optional[str] = None
    auth: typing.Dict[str, str] = dataclasses.field(default_factory=dict)
    project: str = 'admin'
    user: typing.Optional[str] = None
    roles: str = DEFAULT_ROLES
    interface: str = 'public'
    region_name: typing.Optional[str] = None
    verify: typing.Union[bool, str] = True
    timeout: float = 60.0

    def describe(self) -> str:
        if self.auth:
            return 'Keystone (%s)' % self.auth.get('auth_type', 'password')
        if self.token:
            return 'token'
        return 'identity headers (project %s)' % self.project


def normalize_url(url: str) -> str:
    """``host:port`` or an http(s) URL, as the endpoint's root URL (no
    trailing slash nor /v2)."""
    url = url.strip()
    if '://' not in url:
        url = 'http://' + url
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ('http', 'https') or not parts.hostname:
        raise ValueError('%r is not an http(s) URL nor host:port' % url)
    try:
        parts.port
    except ValueError:
        raise ValueError('%r has an invalid port' % url)
    path = parts.path.rstrip('/')
    if path.endswith('/v2'):
        path = path[:-3]
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, '',
                                    ''))


def _plugin(identity: Identity):
    options = dict(identity.auth)
    auth_type = options.pop('auth_type', 'password')
    try:
        loader = ks_loading.get_plugin_loader(auth_type)
    except ks_exc.NoMatchingPlugin:
        raise ReplicatorError('unknown auth_type %r' % auth_type)
    known = {o.dest for o in loader.get_options()}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ReplicatorError('auth_type %s takes no option %s' % (
            auth_type, ', '.join(unknown)))
    try:
        return loader.load_from_options(**options)
    except ks_exc.MissingRequiredOptions as e:
        raise ReplicatorError('auth_type %s needs %s' % (
            auth_type, ', '.join(o.dest for o in e.options)))


class ImageClient:
    """The Image API v2 of one side, as the replicator uses it."""

    def __init__(self, identity: Identity, pool: int = 10):
        self.identity = identity
        http = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=2,
                                                pool_maxsize=pool)
        http.mount('http://', adapter)
        http.mount('https://', adapter)
        self.headers = {}
        plugin = None
        url = normalize_url(identity.url) if identity.url else None
        if identity.auth:
            plugin = _plugin(identity)
        elif identity.token:
            if url is None:
                raise ReplicatorError('a token needs the endpoint URL')
            plugin = token_endpoint.Token(url, identity.token)
        else:
            if url is None:
                raise ReplicatorError('no endpoint URL given')
            self.headers = {
                'X-Identity-Status': 'Confirmed',
                'X-Project-Id': identity.project,
                'X-User-Id': identity.user or 'replicator-%s'
                % identity.project,
                'X-Roles': identity.roles}
        self._projects = {}
        self.session = ks_session.Session(
            auth=plugin, session=http, verify=identity.verify,
            timeout=identity.timeout, user_agent=USER_AGENT)
        self._url = url

    # -- plumbing ------------------------------------------------------

    @property
    def url(self) -> str:
        """The endpoint's root URL (asked of the catalogue if need be)."""
        if self._url is None:
            try:
                found = self.session.get_endpoint(
                    service_type='image', interface=self.identity.interface,
                    region_name=self.identity.region_name)
            except ks_exc.Unauthorized as e:
                raise CredentialsRefused('Keystone refused the credentials: '
                                         '%s' % e)
            except (ks_exc.ConnectFailure, ks_exc.ConnectionError,
                    ks_exc.ConnectTimeout) as e:
                raise Unreachable('Keystone cannot be reached: %s' % _why(e))
            except ks_exc.ClientException as e:
                raise ReplicatorError('Keystone: %s' % e)
            if not found:
                raise ReplicatorError('the catalogue has no image endpoint '
                                      '(interface %s)'
                                      % self.identity.interface)
            self._url = normalize_url(found)
        return self._url

    def request(self, method: str, path: str, expect=(200,),
                headers: typing.Optional[dict] = None,
                **kwargs) -> requests.Response:
        url = self.url + path
        all_headers = dict(self.headers)
        all_headers.update(headers or {})
        try:
            resp = self.session.request(url, method, headers=all_headers,
                                        raise_exc=False, log=False,
                                        **kwargs)
        except ks_exc.Unauthorized as e:
            raise CredentialsRefused('Keystone refused the credentials: %s'
                                     % e)
        except (ks_exc.ConnectFailure, ks_exc.ConnectionError,
                ks_exc.ConnectTimeout) as e:
            raise Unreachable('%s cannot be reached: %s' % (self.url,
                                                            _why(e)))
        except ks_exc.ClientException as e:
            raise ReplicatorError('%s %s: %s' % (method, url, e))
        if resp.status_code in expect:
            return resp
        message = _message(resp)
        resp.close()
        if resp.status_code == 401:
            raise CredentialsRefused('%s refused the credentials (%s): %s'
                                     % (self.url, self.identity.describe(),
                                        message))
        raise ApiError(('%s %s: %d %s' % (method, path, resp.status_code,
                                          message)).rstrip(),
                       resp.status_code)

    def json(self, method, path, expect=(200,), **kwargs):
        resp = self.request(method, path, expect=expect, **kwargs)
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            raise ApiError('%s %s: the answer is not JSON' % (method, path))

    # -- images --------------------------------------------------------

    def probe(self) -> None:
        """Fail with a clear error unless the side answers Image API v2
        requests with this identity."""
        try:
            self.json('GET', '/v2/images?limit=1')
        except ApiError as e:
            if e.status in (403, 409) or e.status is None:
                raise
            raise ApiError('%s does not answer as an Image API v2 endpoint '
                           '(%s)' % (self.url, e), e.status)

    def list_images(self) -> typing.List[dict]:
        """Every image the identity may see, hidden ones included."""
        images = {}
        for hidden in ('false', 'true'):
            path = ('/v2/images?visibility=all&member_status=all'
                    '&os_hidden=%s&limit=%d' % (hidden, PAGE))
            while path:
                page = self.json('GET', path)
                for image in page.get('images', []):
                    images[image['id']] = image
                path = page.get('next')
        return sorted(images.values(),
                      key=lambda i: (i.get('created_at') or '', i['id']))

    def get_image(self, image_id: str) -> typing.Optional[dict]:
        resp = self.request('GET', '/v2/images/%s' % image_id,
                            expect=(200, 404))
        if resp.status_code == 404:
            return None
        return resp.json()

    def create_image(self, body: dict) -> dict:
        return self.json('POST', '/v2/images', expect=(201,), json=body)

    def patch_image(self, image_id: str, changes: list) -> dict:
        return self.json('PATCH', '/v2/images/%s' % image_id,
                         data=json.dumps(changes),
                         headers={'Content-Type': PATCH_TYPE})

    def delete_image(self, image_id: str) -> None:
        self.request('DELETE', '/v2/images/%s' % image_id,
                     expect=(204, 404))

    def action(self, image_id: str, name: str) -> None:
        self.request('POST', '/v2/images/%s/actions/%s' % (image_id, name),
                     expect=(204,))

    def open_data(self, image_id: str) -> requests.Response:
        """The streamed answer of a download (the caller closes it)."""
        return self.request('GET', '/v2/images/%s/file' % image_id,
                            expect=(200,), stream=True)

    def upload(self, image_id: str, body) -> None:
        """PUT the data; ``body`` is bytes or an iterable with len()."""
        self.request('PUT', '/v2/images/%s/file' % image_id, expect=(204,),
                     data=body,
                     headers={'Content-Type': 'application/octet-stream'})

    def wait_settled(self, image_id: str, timeout: float = 60.0) -> dict:
        """The image once it is not being written (saving, importing)."""
        deadline = time.monotonic() + timeout
        while True:
            image = self.get_image(image_id) or {}
            if image.get('status') not in ('saving', 'importing',
                                           'uploading'):
                return image
            if time.monotonic() > deadline:
                return image
            time.sleep(0.5)

    # -- members -------------------------------------------------------

    def knows_project(self, project: str) -> typing.Optional[bool]:
        """Whether this side's Keystone has the project: None when that
        cannot be told (no Keystone identity, or Keystone will not say)."""
        if not self.identity.auth:
            return None
        if project not in self._projects:
            known = None
            try:
                resp = self.session.request(
                    '/projects/%s' % urllib.parse.quote(project, safe=''),
                    'GET', raise_exc=False, log=False,
                    endpoint_filter={
                        'service_type': 'identity', 'version': (3, 0),
                        'interface': self.identity.interface,
                        'region_name': self.identity.region_name})
                known = {200: True, 404: False}.get(resp.status_code)
            except ks_exc.ClientException as e:
                LOG.warning('cannot ask Keystone about project %s: %s',
                            project, e)
            self._projects[project] = known
        return self._projects[project]

    def members(self, image_id: str) -> typing.Dict[str, str]:
        """{member project: status}."""
        page = self.json('GET', '/v2/images/%s/members' % image_id)
        return {m['member_id']: m['status'] for m in page['members']}

    def add_member(self, image_id: str, member: str) -> None:
        self.json('POST', '/v2/images/%s/members' % image_id,
                  json={'member': member})

    def set_member_status(self, image_id: str, member: str,
                          status: str) -> None:
        """As the member itself where the identity is headers (only the
        member may answer an invitation); as the replicator otherwise."""
        headers = {}
        if self.headers:
            headers = {'X-Project-Id': member,
                       'X-User-Id': 'replicator-%s' % member}
        self.json('PUT', '/v2/images/%s/members/%s' % (image_id, member),
                  json={'status': status}, headers=headers)

    def remove_member(self, image_id: str, member: str) -> None:
        self.request('DELETE', '/v2/images/%s/members/%s'
                     % (image_id, member), expect=(204, 404))


def _why(error) -> str:
    """The cause of a connection failure in a few words (the library's
    message nests three exceptions deep)."""
    text = str(error)
    found = re.search(r'\[Errno -?\d+\] ([^\'"()]+)', text)
    if found:
        return found.group(1).strip()
    if 'timed out' in text.lower():
        return 'no answer in time'
    return text


def _message(resp) -> str:
    """The short message of an error answer."""
    try:
        body = resp.json()
    except ValueError:
        text = ' '.join(resp.text.split())
        return text[:300]
    if isinstance(body, dict):
        for key in ('message', 'title', 'error'):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get('message') or value.get('title')
            if value:
                return str(value)[:300]
    return json.dumps(body)[:300]
