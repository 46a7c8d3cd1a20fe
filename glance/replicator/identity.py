"""Who the replicator is on each side: command-line options and the
``--config-file``, turned into a ``client.Identity`` per side.

The file is INI with a ``[source]`` and a ``[target]`` section (a
``[DEFAULT]`` section applies to both). Keys: ``url``, ``token``,
``project``, ``user``, ``roles`` (the identity headers of a deployment
without Keystone), ``interface``, ``region_name``, ``insecure``,
``cacert``, ``timeout``; any other key is a keystoneauth1 option
(``auth_type``, default password, ``auth_url``, ``username``,
``password``, ``project_name``, ``user_domain_name``,
``project_domain_name``, ``application_credential_id``, ...), and one
of them makes that side authenticate with Keystone. Command-line
options win over the file.
"""

import configparser
import typing

from glance.replicator import client

OWN_KEYS = ('url', 'token', 'project', 'user', 'roles', 'interface',
            'region_name', 'insecure', 'cacert', 'timeout')
TRUE = ('1', 'true', 'yes', 'on')


class ConfigError(client.ReplicatorError):
    """The --config-file cannot be used."""


def read_config(path: typing.Optional[str]) -> typing.Dict[str, dict]:
    """{'source': {...}, 'target': {...}} from the file (empty without)."""
    sides = {'source': {}, 'target': {}}
    if not path:
        return sides
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path) as f:
            parser.read_file(f)
    except OSError as e:
        raise ConfigError('cannot read %s: %s' % (path, e.strerror))
    except configparser.Error as e:
        raise ConfigError('%s is not a valid INI file: %s'
                          % (path, str(e).splitlines()[0]))
    unknown = sorted(set(parser.sections()) - set(sides))
    if unknown:
        raise ConfigError('%s: unknown section [%s] (only [source], '
                          '[target] and [DEFAULT])' % (path, unknown[0]))
    for side in sides:
        if parser.has_section(side):
            sides[side] = dict(parser.items(side))
        else:
            sides[side] = dict(parser.defaults())
    return sides


def build(values: dict, url: typing.Optional[str] = None,
          token: typing.Optional[str] = None,
          project: typing.Optional[str] = None,
          roles: typing.Optional[str] = None,
          timeout: typing.Optional[float] = None) -> client.Identity:
    """The identity of one side: ``values`` from the file, the rest from
    the command line (None: not given)."""
    values = {key.replace('-', '_'): value for key, value in values.items()}
    identity = client.Identity()
    identity.url = url or values.pop('url', None)
    values.pop('url', None)
    identity.token = token or values.pop('token', None)
    values.pop('token', None)
    identity.project = project or values.pop('project', None) or 'admin'
    values.pop('project', None)
    identity.user = values.pop('user', None)
    identity.roles = roles or values.pop('roles', None) or (
        client.DEFAULT_ROLES)
    values.pop('roles', None)
    identity.interface = values.pop('interface', None) or 'public'
    identity.region_name = values.pop('region_name', None)
    insecure = values.pop('insecure', 'false').strip().lower() in TRUE
    cacert = values.pop('cacert', None)
    identity.verify = False if insecure else (cacert or True)
    file_timeout = values.pop('timeout', None)
    try:
        identity.timeout = float(timeout or file_timeout or 60)
    except ValueError:
        raise ConfigError('timeout %r is not a number' % file_timeout)
    if token and values:
        # A token given on the command line replaces Keystone
        # credentials from the file.
        values = {}
    identity.auth = values
    return identity
