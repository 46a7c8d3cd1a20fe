"""glance-cache-manage: the image cache of one glance-api node, through
the older management paths (``/v2/cached_images``, ``/v2/queued_images``)
that the ``cachemanagement`` paste flavors serve.

    glance-cache-manage [options] list-cached | list-queued
    glance-cache-manage [options] queue-image IMAGE_ID
    glance-cache-manage [options] delete-cached-image IMAGE_ID
    glance-cache-manage [options] delete-queued-image IMAGE_ID
    glance-cache-manage [options] delete-all-cached-images
    glance-cache-manage [options] delete-all-queued-images

Options are upstream's. With --os-auth-url (or -S keystone) a Keystone
token is obtained with the password options; otherwise --os-auth-token,
if any, is sent as it is (the flavors without Keystone ignore it).
"""

import argparse
import configparser
import datetime
import os
import sys

import requests

from glance import version

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

COMMANDS = {
    # command: (method, path, takes an id, destructive)
    'list-cached': ('GET', '/v2/cached_images', False, False),
    'list-queued': ('GET', '/v2/queued_images', False, False),
    'queue-image': ('PUT', '/v2/queued_images/%s', True, False),
    'delete-cached-image': ('DELETE', '/v2/cached_images/%s', True, True),
    'delete-all-cached-images': ('DELETE', '/v2/cached_images', False, True),
    'delete-queued-image': ('DELETE', '/v2/queued_images/%s', True, True),
    'delete-all-queued-images': ('DELETE', '/v2/queued_images', False,
                                 True),
}


def parser():
    p = argparse.ArgumentParser(
        prog='glance-cache-manage',
        description='Manage the image cache of a glance-api node through '
                    'the older cache paths of its cachemanagement paste '
                    'flavors.',
        epilog='Exit status: 0 done; 1 the request failed (message on '
               'stderr); 2 wrong usage.')
    p.add_argument('command', choices=sorted(COMMANDS) + ['help'],
                   metavar='COMMAND',
                   help='One of: %s.' % ', '.join(sorted(COMMANDS)))
    p.add_argument('image_id', nargs='?', metavar='IMAGE_ID',
                   help='The image of queue-image, delete-cached-image and '
                        'delete-queued-image.')
    p.add_argument('--version', action='version', version=version.VERSION,
                   help='Print the version and exit.')
    p.add_argument('--config-file', metavar='PATH',
                   help='A glance-api.conf whose bind_host and bind_port '
                        'are the defaults of --host and --port.')
    p.add_argument('-H', '--host', help='Address of the glance-api node '
                   '(default 0.0.0.0, which reaches this machine).')
    p.add_argument('-p', '--port', type=int,
                   help='Port of the glance-api node (default 9292).')
    p.add_argument('-k', '--insecure', action='store_true',
                   help='Use https without verifying the certificate.')
    p.add_argument('-f', '--force', action='store_true',
                   help='Do not ask before deleting.')
    p.add_argument('-v', '--verbose', action='store_true',
                   help='Also print the request made and its status.')
    p.add_argument('-d', '--debug', action='store_true',
                   help='Accepted for compatibility; as --verbose.')
    env = os.environ.get
    p.add_argument('-A', '--os-auth-token', '--auth_token',
                   default=env('OS_AUTH_TOKEN'),
                   help='Token to send (env OS_AUTH_TOKEN).')
    p.add_argument('-I', '--os-username', default=env('OS_USERNAME'),
                   help='Keystone user name (env OS_USERNAME).')
    p.add_argument('-K', '--os-password', default=env('OS_PASSWORD'),
                   help='Keystone password (env OS_PASSWORD).')
    p.add_argument('-R', '--os-region-name', default=env('OS_REGION_NAME'),
                   help='Region (env OS_REGION_NAME); accepted, unused.')
    p.add_argument('--os-project-id', default=env('OS_PROJECT_ID'),
                   help='Project to scope the token to (env OS_PROJECT_ID).')
    p.add_argument('--os-project-name', default=env('OS_PROJECT_NAME'),
                   help='Project to scope the token to, by name (env '
                        'OS_PROJECT_NAME).')
    p.add_argument('--os-user-domain-id',
                   default=env('OS_USER_DOMAIN_ID', 'default'),
                   help='Domain of the user (default "default").')
    p.add_argument('--os-project-domain-id',
                   default=env('OS_PROJECT_DOMAIN_ID', 'default'),
                   help='Domain of the project (default "default").')
    p.add_argument('--os-domain-id', default=env('OS_DOMAIN_ID', 'default'),
                   help='Domain (default "default"); accepted, unused.')
    p.add_argument('-N', '--os-auth-url', default=env('OS_AUTH_URL'),
                   help='Keystone URL (env OS_AUTH_URL): a token is '
                        'obtained with the password options.')
    p.add_argument('-S', '--os_auth_strategy', '--os-auth-strategy',
                   choices=['keystone', 'noauth'], default='noauth',
                   help='keystone or noauth; keystone whenever an auth URL '
                        'is given.')
    return p


def address(args):
    """(host, port) from the options, else the configuration file."""
    host, port = args.host, args.port
    if args.config_file:
        conf = configparser.ConfigParser(interpolation=None, strict=False)
        if not conf.read(args.config_file):
            raise SystemExit('ERROR: cannot read %s' % args.config_file)
        defaults = conf.defaults()
        host = host or defaults.get('bind_host')
        port = port or int(defaults.get('bind_port', 9292))
    host = host or '0.0.0.0'
    if host in ('0.0.0.0', '::'):
        host = '127.0.0.1'
    if ':' in host:
        host = '[%s]' % host
    return host, port or 9292


def token_of(args):
    """The token to send: Keystone's when an auth URL is given."""
    if not args.os_auth_url and args.os_auth_strategy != 'keystone':
        return args.os_auth_token
    if not args.os_auth_url:
        raise SystemExit('ERROR: -S keystone needs --os-auth-url.')
    from keystoneauth1 import session
    from keystoneauth1.identity import v3
    auth = v3.Password(auth_url=args.os_auth_url, username=args.os_username,
                       password=args.os_password,
                       project_id=args.os_project_id,
                       project_name=args.os_project_name,
                       user_domain_id=args.os_user_domain_id,
                       project_domain_id=args.os_project_domain_id)
    return session.Session(auth=auth, verify=not args.insecure).get_token()


def show(command, body):
    if command == 'list-queued':
        ids = body.get('queued_images', [])
        print('Found %d queued images' % len(ids))
        for image_id in ids:
            print(image_id)
        return
    if command == 'list-cached':
        records = body.get('cached_images', [])
        print('Found %d cached images' % len(records))
        fmt = '%-36s  %-19s  %-19s  %12s  %5s'
        print(fmt % ('ID', 'Last Accessed (UTC)', 'Last Modified (UTC)',
                     'Size', 'Hits'))
        for r in records:
            print(fmt % (r['image_id'], _when(r['last_accessed']),
                         _when(r['last_modified']), r['size'], r['hits']))
        return
    if isinstance(body, dict) and 'num_deleted' in body:
        print('Deleted %d images' % body['num_deleted'])


def _when(epoch):
    if not epoch:
        return 'N/A'
    return datetime.datetime.fromtimestamp(
        epoch, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S')


def main(argv=None):
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == 'help':
        parser().print_help()
        return EXIT_OK
    method, path, takes_id, destructive = COMMANDS[args.command]
    if takes_id != bool(args.image_id):
        sys.stderr.write('ERROR: %s %s an image id.\n' % (
            args.command, 'needs' if takes_id else 'takes no'))
        return EXIT_USAGE
    if destructive and not args.force:
        answer = input('%s %s? [y/N] ' % (args.command,
                                          args.image_id or '')).strip()
        if answer.lower() not in ('y', 'yes'):
            print('Not done.')
            return EXIT_OK
    host, port = address(args)
    scheme = 'https' if args.insecure else 'http'
    url = '%s://%s:%d%s' % (scheme, host, port,
                            path % args.image_id if takes_id else path)
    headers = {'Accept': 'application/json'}
    try:
        token = token_of(args)
        if token:
            headers['X-Auth-Token'] = token
        resp = requests.request(method, url, headers=headers, timeout=60,
                                verify=not args.insecure)
    except (requests.RequestException, OSError) as e:
        sys.stderr.write('ERROR: cannot reach %s: %s\n' % (url, e))
        return EXIT_FAILED
    except Exception as e:
        sys.stderr.write('ERROR: authentication failed: %s\n' % e)
        return EXIT_FAILED
    if resp.status_code >= 400:
        sys.stderr.write('ERROR: %s %s: %d %s\n' % (
            method, url, resp.status_code, resp.text.strip()[:500]))
        return EXIT_FAILED
    show(args.command, resp.json() if resp.content else None)
    if args.verbose:
        print('%s %s: %d' % (method, url, resp.status_code))
    return EXIT_OK


if __name__ == '__main__':
    sys.exit(main())
