"""Notifications: what happened to images, members, tasks and metadata
definitions, sent through oslo.messaging.

``[oslo_messaging_notifications] driver`` (none by default) says where they
go. The service functions call one helper each once an operation has
succeeded, with the rows they already hold (this module never reads the
database); the helpers build the payload at once (the state of that
moment) and hand it to a sender thread of the process, so neither a slow
nor an absent broker holds up or fails a request: what cannot be sent is
logged. When no driver is set, each helper returns after one comparison.

The sender and its transport are made on first use in each process, so
pre-forked workers never share the parent's connection. Events listed in
``disabled_notifications`` (the event type, its group -- the text before
the first dot -- or a prefix ending in ``.*``) are not sent.
"""

import json
import os
import queue
import threading

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import timeutils

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

EXCHANGE = 'glance'
# Events waiting for the sender; past this (a broker down for long) new
# events are dropped and logged.
MAX_PENDING = 1000
IMAGE_FIELDS = ('id', 'name', 'status', 'min_disk', 'min_ram', 'protected',
                'checksum', 'owner', 'disk_format', 'container_format',
                'size', 'virtual_size', 'visibility')
TASK_FIELDS = ('id', 'type', 'status', 'owner')
NAMESPACE_FIELDS = ('namespace', 'display_name', 'protected', 'visibility',
                    'owner', 'description')
# The JSON schema keywords of a metadef property that its events carry.
PROPERTY_FIELDS = ('type', 'title', 'description', 'default', 'minimum',
                   'maximum', 'enum', 'pattern', 'minLength', 'maxLength',
                   'confidential', 'items', 'uniqueItems', 'minItems',
                   'maxItems', 'additionalItems')
CONTENT_EVENTS = {'object': 'metadef_namespace.delete_objects',
                  'property': 'metadef_namespace.delete_properties',
                  'tag': 'metadef_namespace.delete_tags'}
METADEF_KINDS = {'object': 'metadef_object', 'property': 'metadef_property',
                 'tag': 'metadef_tag'}

_process = {'pid': None, 'queue': None, 'full': False}


# -- configuration ------------------------------------------------------------

def _register_opts():
    from oslo_messaging import opts as messaging_opts
    for group, opts in messaging_opts.list_opts():
        if group == 'oslo_messaging_notifications':
            CONF.register_opts(opts, group=group)


def drivers():
    """The notification drivers configured, noop left out."""
    _register_opts()
    return [d for d in CONF.oslo_messaging_notifications.driver
            if d not in ('noop', '')]


def is_disabled(event_type, disabled=None):
    """Whether ``disabled_notifications`` suppresses ``event_type``."""
    for entry in CONF.disabled_notifications if disabled is None \
            else disabled:
        entry = entry.strip()
        if not entry:
            continue
        if entry.endswith('.*'):
            if event_type.startswith(entry[:-1]):
                return True
        elif entry in (event_type, event_type.split('.', 1)[0]):
            return True
    return False


# -- the sender of this process -----------------------------------------------

def _sender():
    """The queue of this process's sender, None when nothing is sent."""
    pid = os.getpid()
    if _process['pid'] != pid:
        _process.update(pid=pid, queue=None, full=False)
        if drivers():
            _process['queue'] = _start()
    return _process['queue']


def _start():
    import oslo_messaging
    oslo_messaging.set_transport_defaults(EXCHANGE)
    transport = oslo_messaging.get_notification_transport(CONF)
    notifier = oslo_messaging.Notifier(
        transport, publisher_id=CONF.default_publisher_id)
    # A green queue and thread under the eventlet daemon (monkey-patched),
    # real ones under other WSGI servers.
    pending = queue.Queue(MAX_PENDING)
    threading.Thread(target=_send_loop, args=(notifier, pending),
                     name='notifier', daemon=True).start()
    return pending


def _send_loop(notifier, pending):
    while True:
        priority, event_type, payload = pending.get()
        try:
            getattr(notifier, priority)({}, event_type, payload)
        except Exception as e:
            LOG.error('Could not send the %s notification: %s', event_type, e)
        finally:
            pending.task_done()


def flush(timeout=None):
    """Wait until the sender of this process has sent (or failed to send)
    every notification queued so far, for at most ``timeout`` seconds
    (None: as long as it takes). A stopping process calls it before it
    exits, which would otherwise drop them. Returns how many are left;
    those are logged."""
    pending = _process['queue'] if _process['pid'] == os.getpid() else None
    if pending is None:
        return 0
    # Queue.join() has no timeout: it waits in a thread of its own (a
    # green one under the eventlet daemon).
    sent = threading.Event()
    threading.Thread(target=lambda: (pending.join(), sent.set()),
                     name='notifier-flush', daemon=True).start()
    sent.wait(timeout)
    unsent = pending.unfinished_tasks
    if unsent:
        LOG.warning('%d notifications not sent within %ss of stopping: '
                    'dropped', unsent, timeout)
    return unsent


def enabled(event_type):
    """Whether ``event_type`` would be sent (cheap when nothing is)."""
    return _sender() is not None and not is_disabled(event_type)


def emit(event_type, payload, priority='info'):
    """Queue one notification; never raises."""
    try:
        pending = _sender()
        if pending is None or is_disabled(event_type):
            return
        pending.put_nowait((priority, event_type, payload))
        _process['full'] = False
    except queue.Full:
        if not _process['full']:
            LOG.warning('%d notifications wait for the messaging server: '
                        'dropping new ones (%s) until it takes them',
                        MAX_PENDING, event_type)
        _process['full'] = True
    except Exception:
        LOG.exception('Could not queue the %s notification', event_type)


def _safely(build):
    """Run a helper that builds and emits; log instead of raising."""
    def helper(event_type, *args, **kwargs):
        try:
            if enabled(event_type):
                build(event_type, *args, **kwargs)
        except Exception:
            LOG.exception('Could not send the %s notification', event_type)
    helper.__name__ = build.__name__
    helper.__doc__ = build.__doc__
    return helper


# -- payloads -----------------------------------------------------------------

def _now():
    return timeutils.isotime(timeutils.utcnow())


def _deletion(deleted):
    return {'deleted': bool(deleted),
            'deleted_at': _now() if deleted else None}


def _stamps(row):
    return {'created_at': timeutils.isotime(row.get('created_at')),
            'updated_at': timeutils.isotime(row.get('updated_at'))}


def image_payload(image):
    """The fields of an image an event carries (never its locations: they
    may hold credentials)."""
    payload = {k: image.get(k) for k in IMAGE_FIELDS}
    payload.update(_stamps(image))
    payload['is_public'] = image.get('visibility') == 'public'
    payload['properties'] = dict(image.get('properties') or {})
    payload['tags'] = list(image.get('tags') or [])
    payload.update(_deletion(False))
    return payload


def _split(value):
    return [s for s in (value or '').split(',') if s]


def data_payload(image, backend=None):
    """An image payload with the import state: the stores still to get the
    data and those that failed, and the store written (multi-store)."""
    payload = image_payload(image)
    props = image.get('properties') or {}
    payload['os_glance_importing_to_stores'] = _split(
        props.get('os_glance_importing_to_stores'))
    payload['os_glance_failed_import'] = _split(
        props.get('os_glance_failed_import'))
    if backend and CONF.enabled_backends:
        payload['backend'] = backend
    return payload


def member_payload(member, deleted=False):
    payload = {'image_id': member['image_id'], 'member_id': member['member'],
               'status': member['status']}
    payload.update(_stamps(member))
    payload.update(_deletion(deleted))
    return payload


def task_payload(task):
    """The fields of a task an event carries; never its input (it may hold
    credentials), nor its result and message, as upstream."""
    payload = {k: task.get(k) for k in TASK_FIELDS}
    payload.update(result=None, message=None,
                   expires_at=timeutils.isotime(task.get('expires_at')))
    payload.update(_stamps(task))
    payload.update(_deletion(False))
    return payload


def namespace_payload(namespace, old_name=None, deleted=False):
    payload = {k: namespace.get(k) for k in NAMESPACE_FIELDS}
    payload['namespace_old'] = old_name or namespace['namespace']
    payload.update(_stamps(namespace))
    payload.update(_deletion(deleted))
    return payload


def _schema_fields(definition):
    return {k: definition.get(k) for k in PROPERTY_FIELDS}


def metadef_payload(kind, namespace, row, old_name=None, deleted=False):
    """Payload of an object, property or tag (a row of its table) of the
    namespace named ``namespace``."""
    payload = {'namespace': namespace, 'name': row['name'],
               'name_old': old_name or row['name']}
    if kind == 'object':
        properties = json.loads(row.get('json_schema') or '{}')
        payload['properties'] = [dict(_schema_fields(d), name=name)
                                 for name, d in properties.items()]
        payload['required'] = _split(row.get('required'))
        payload['description'] = row.get('description')
    elif kind == 'property':
        payload.update(_schema_fields(
            json.loads(row.get('json_schema') or '{}')))
    if kind != 'property':
        payload.update(_stamps(row))
    payload.update(_deletion(deleted))
    return payload


def association_payload(namespace, association, deleted=False):
    payload = {'namespace': namespace, 'name': association['name'],
               'name_old': association['name'],
               'prefix': association.get('prefix'),
               'properties_target': association.get('properties_target')}
    payload.update(_stamps(association))
    payload.update(_deletion(deleted))
    return payload


def send_payload(ctx, image, bytes_sent):
    return {'bytes_sent': bytes_sent, 'image_id': image['id'],
            'owner_id': image['owner'],
            'receiver_tenant_id': ctx.project_id,
            'receiver_user_id': ctx.user_id}


# -- helpers the service functions call ---------------------------------------

@_safely
def image_event(event_type, image):
    """image.create, image.update, image.activate of an image (a dict with
    its properties and tags)."""
    emit(event_type, image_payload(image))


@_safely
def image_deleted(event_type, image, status):
    """image.delete of ``image`` as it was, now in ``status``."""
    payload = image_payload(dict(image, status=status))
    payload.update(_deletion(True))
    emit(event_type, payload)


@_safely
def data_event(event_type, image, backend=None):
    """image.prepare, before data is written to the store ``backend``."""
    emit(event_type, data_payload(image, backend))


def uploaded(image, backend=None, activated=True):
    """image.upload once data is in a store, then image.activate when
    that made the image active (``image`` as it now is)."""
    try:
        if enabled('image.upload') or enabled('image.activate'):
            emit('image.upload', data_payload(image, backend))
            if activated:
                emit('image.activate', image_payload(image))
    except Exception:
        LOG.exception('Could not send the image.upload notification')


def upload_failed(image_id, error):
    """An ERROR image.upload whose payload is the text of ``error``."""
    if isinstance(error, Exception):
        try:
            text = 'Image %s: data could not be stored: %s' % (image_id,
                                                                error)
        except Exception:
            text = 'Image %s: data could not be stored' % image_id
        emit('image.upload', text, priority='error')


@_safely
def _sent(event_type, ctx, image, bytes_sent, complete):
    emit(event_type, send_payload(ctx, image, bytes_sent),
         priority='info' if complete else 'error')


def image_sent(ctx, image, bytes_sent, complete):
    """image.send once a download ended: INFO when all of it left, ERROR
    when it was cut short (or more or fewer bytes than expected left)."""
    _sent('image.send', ctx, image, bytes_sent, complete)


@_safely
def member_event(event_type, member, deleted=False):
    """image.member.create, .update, .delete of a membership row."""
    emit(event_type, member_payload(member, deleted))


@_safely
def task_event(event_type, task):
    """task.create, task.run, task.processing, task.success,
    task.failure of a task row."""
    emit(event_type, task_payload(task))


def task_started(task):
    """task.run then task.processing, when a task's work begins."""
    task_event('task.run', task)
    task_event('task.processing', task)


@_safely
def namespace_event(event_type, namespace, old_name=None, deleted=False):
    """metadef_namespace.* of a namespace row (or dict)."""
    emit(event_type, namespace_payload(namespace, old_name, deleted))


def metadef_event(action, kind, namespace, row, old_name=None):
    """metadef_object|property|tag.``action`` of a row of the namespace
    named ``namespace``."""
    _metadef(METADEF_KINDS[kind] + '.' + action, kind, namespace, row,
             old_name)


@_safely
def _metadef(event_type, kind, namespace, row, old_name):
    emit(event_type, metadef_payload(kind, namespace, row, old_name,
                                     deleted=event_type.endswith('.delete')))


@_safely
def association_event(event_type, namespace, association, deleted=False):
    """metadef_resource_type.create or .delete of an association."""
    emit(event_type, association_payload(namespace, association, deleted))


@_safely
def _integrity(event_type, image, extra):
    payload = image_payload(image)
    payload.update(extra)
    emit(event_type, payload, priority='error')


def audit_failed(image, store, problem, detail):
    """image.audit.failed (error): glance-auditor found the data of
    ``image`` in ``store`` missing or different from its record. The
    location's URL is left out, as in every image event."""
    _integrity('image.audit.failed', image, {
        'store': store, 'problem': problem, 'detail': detail})


def update_mismatch(image, field, recorded, found):
    """image.update.mismatch (error): glance-updater read data that
    contradicts the value ``field`` recorded on ``image``."""
    _integrity('image.update.mismatch', image, {
        'field': field, 'recorded': recorded, 'found': found})
