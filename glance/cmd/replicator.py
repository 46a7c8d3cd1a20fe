"""glance-replicator: copies images between Image API v2 deployments.

    glance-replicator livecopy SOURCE TARGET   copy what the target lacks
    glance-replicator compare SOURCE TARGET    report what differs
    glance-replicator dump SOURCE DIR          images to a directory
    glance-replicator load TARGET DIR          a dump to a server
    glance-replicator size SOURCE              bytes of active images
    glance-replicator help COMMAND

SOURCE and TARGET are ``host:port`` or URLs (or ``url`` in the
``--config-file``). See ``glance.replicator`` for the pieces.
"""

import argparse
import logging
import os
import sys

from glance import version
from glance.replicator import client
from glance.replicator import commands
from glance.replicator import copy
from glance.replicator import dump
from glance.replicator import identity
from glance.replicator import planning

EXIT_OK = 0
EXIT_FAILED = 1       # an image failed, or compare found differences
EXIT_USAGE = 2        # bad arguments (argparse's status too)
EXIT_UNREACHABLE = 3  # an endpoint or Keystone does not answer
EXIT_REFUSED = 4      # the credentials were refused
EXIT_INTERRUPTED = 130  # SIGINT (Ctrl-C)

DESCRIPTION = """Copies images between two deployments of the Image
service over Image API v2 (this project's or upstream Glance), keeping
their ids, properties, tags, visibility, members, status (deactivated
images stay deactivated) and data: checksum and os_hash_value of the copy
are checked against the source's on arrival. Data goes from the source's
download into the target's upload without touching the local disk. An
interrupted run is resumed by running it again: finished images are seen
equal and not copied again."""

EPILOG = """Identity, per side: a Keystone token (--token, --source-token,
--target-token), Keystone credentials from the --config-file (INI sections
[source] and [target]: auth_type, auth_url, username, password,
project_name, user_domain_name, project_domain_name, ... and url, which
otherwise comes from the catalogue), or, for deployments without Keystone,
the identity headers X-Project-Id (--project, default admin) and X-Roles
(--roles, default admin,member,reader). Exit status: 0 done (compare:
no difference); 1 an image failed (compare: differences found); 2 bad
arguments; 3 an endpoint or Keystone cannot be reached; 4 credentials
refused; 130 interrupted (Ctrl-C: run the command again to continue)."""

COMMANDS = {
    'livecopy': ('SOURCE TARGET', 'copy the images the target lacks or has '
                 'otherwise (metadata, members, status, data)'),
    'compare': ('SOURCE TARGET', 'list the images the target lacks or has '
                'otherwise; exit status 1 when there is any'),
    'dump': ('SOURCE DIR', 'write each image to DIR: <id>.json (metadata '
             'and members) and <id>.img (data)'),
    'load': ('TARGET DIR', 'copy the images dumped in DIR to TARGET, as '
             'livecopy would'),
    'size': ('SOURCE', 'the total size of the active images'),
}


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError('%r is not an integer' % text)
    if value < 1:
        raise argparse.ArgumentTypeError('%r is not positive' % text)
    return value


def _common():
    parent = argparse.ArgumentParser(add_help=False)
    who = parent.add_argument_group('identity')
    who.add_argument('--config-file', '--config', dest='config',
                     metavar='FILE',
                     help='INI file with [source] and [target] sections '
                          '(see below)')
    who.add_argument('-t', '--token', help='Keystone token for both sides')
    who.add_argument('--source-token', '--sourcetoken', dest='source_token',
                     help='Keystone token for the source')
    who.add_argument('--target-token', '--targettoken', dest='target_token',
                     help='Keystone token for the target')
    who.add_argument('--project', help='X-Project-Id sent to both sides '
                     'when there is no Keystone identity (default admin)')
    who.add_argument('--source-project', help='X-Project-Id for the source')
    who.add_argument('--target-project', help='X-Project-Id for the target')
    who.add_argument('--roles', help='X-Roles sent with --project '
                     '(default %s)' % client.DEFAULT_ROLES)
    who.add_argument('--timeout', type=float, help='seconds any connection '
                     'or wait for data may take (default 60)')
    what = parent.add_argument_group('which images')
    what.add_argument('--image-id', action='append', default=[],
                      metavar='ID', help='only this image (repeatable)')
    what.add_argument('--owner', help='only images of this project')
    what.add_argument('--visibility', choices=('public', 'private', 'shared',
                                               'community'),
                      help='only images of this visibility')
    what.add_argument('--status', help='only images in this status')
    how = parent.add_argument_group('how')
    how.add_argument('-D', '--dontreplicate', metavar='KEYS',
                     default=' '.join(planning.DONTREPLICATE),
                     help='space-separated properties not copied nor '
                          'compared (default: %(default)s)')
    how.add_argument('-m', '--metaonly', action='store_true',
                     help='copy metadata only, no data')
    how.add_argument('--no-members', action='store_true',
                     help='leave image members alone (they are copied by '
                          'project id; with Keystone on the target, members '
                          'whose project it lacks are left out)')
    how.add_argument('--dry-run', action='store_true',
                     help='say what would be copied, change nothing')
    how.add_argument('-c', '--chunksize', type=_positive,
                     default=copy.CHUNK,
                     help='bytes read and sent at a time (default '
                          '%(default)s)')
    how.add_argument('-w', '--workers', type=_positive, default=4,
                     help='images copied at once (default %(default)s)')
    how.add_argument('--json', action='store_true',
                     help='print the results as one JSON document')
    how.add_argument('--no-progress', action='store_true',
                     help='no progress bar (it is only drawn on a terminal)')
    return parent


def parser():
    top = argparse.ArgumentParser(
        prog='glance-replicator', description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument('--version', action='version',
                     version=version.VERSION)
    sub = top.add_subparsers(dest='command', metavar='COMMAND',
                             help='what to do ("help COMMAND" for its '
                                  'options)')
    sub.required = True
    common = _common()
    for name, (args, text) in COMMANDS.items():
        p = sub.add_parser(name, parents=[common], help=text,
                           description=text, epilog=EPILOG)
        first, *rest = args.split()
        p.add_argument('first', metavar=first, nargs='?',
                       help='host:port or URL (default: url in the '
                            '[%s] section of --config-file)'
                            % ('target' if name == 'load' else 'source'))
        if rest:
            p.add_argument('second', metavar=rest[0],
                           nargs='?' if rest[0] != 'DIR' else None,
                           help='host:port or URL (default: url in the '
                                '[target] section of --config-file)'
                           if rest[0] != 'DIR' else 'the dump directory')
    helper = sub.add_parser('help', help='help on a command',
                            description='Help on a command.')
    helper.add_argument('topic', nargs='?', choices=sorted(COMMANDS),
                        metavar='COMMAND', help='one of %s'
                        % ', '.join(sorted(COMMANDS)))
    return top, sub


def _options(args):
    return commands.Options(
        dontreplicate=tuple(args.dontreplicate.split()),
        metaonly=args.metaonly, members=not args.no_members,
        dry_run=args.dry_run, workers=args.workers,
        chunk_size=args.chunksize, progress=not args.no_progress,
        as_json=args.json, owner=args.owner, visibility=args.visibility,
        status=args.status, image_ids=[i.lower() for i in args.image_id])


def _side(args, config, side, url):
    token = getattr(args, side + '_token') or args.token
    project = getattr(args, side + '_project') or args.project
    ident = identity.build(config[side], url, token, project, args.roles,
                           args.timeout)
    if not ident.url and not ident.auth:
        raise identity.ConfigError(
            'no %s given: name it on the command line or as url in the '
            '[%s] section of --config' % (side, side))
    return client.ImageClient(ident, pool=args.workers + 2)


def run(args) -> int:
    config = identity.read_config(args.config)
    options = _options(args)
    name = args.command
    if name in ('livecopy', 'compare'):
        source = _side(args, config, 'source', args.first)
        target = _side(args, config, 'target', args.second)
        source.probe()
        target.probe()
        results = getattr(commands, name)(source, target, options)
    elif name == 'size':
        source = _side(args, config, 'source', args.first)
        source.probe()
        results = commands.size(source, options)
    elif name == 'dump':
        source = _side(args, config, 'source', args.first)
        source.probe()
        results = dump.dump(source, args.second, options)
    else:   # load TARGET DIR
        target = _side(args, config, 'target', args.first)
        target.probe()
        results = dump.load(target, args.second, options)
    return EXIT_FAILED if commands.failed(results) else EXIT_OK


def main(argv=None) -> int:
    top, sub = parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ['help']:
        args = top.parse_args(argv)
        if args.topic:
            sub.choices[args.topic].print_help()
        else:
            top.print_help()
        return EXIT_OK
    args = top.parse_args(argv)
    if args.command == 'dump' and args.second is None:
        top.error('dump needs SOURCE and DIR')
    logging.basicConfig(level=logging.WARNING,
                        format='%(levelname)s %(name)s: %(message)s')
    try:
        return run(args)
    except ValueError as e:
        sys.stderr.write('glance-replicator: error: %s\n' % e)
        return EXIT_USAGE
    except client.Unreachable as e:
        sys.stderr.write('glance-replicator: error: %s\n' % e)
        return EXIT_UNREACHABLE
    except client.CredentialsRefused as e:
        sys.stderr.write('glance-replicator: error: %s\n' % e)
        return EXIT_REFUSED
    except identity.ConfigError as e:
        sys.stderr.write('glance-replicator: error: %s\n' % e)
        return EXIT_USAGE
    except client.ReplicatorError as e:
        sys.stderr.write('glance-replicator: error: %s\n' % e)
        return EXIT_FAILED
    except KeyboardInterrupt:
        sys.stderr.write('glance-replicator: interrupted; run the command '
                         'again to continue\n')
        sys.stderr.flush()
        sys.stdout.flush()
        # Copying threads may be in the middle of an image: they are not
        # waited for (the target drops an upload cut short).
        os._exit(EXIT_INTERRUPTED)


if __name__ == '__main__':
    sys.exit(main())
