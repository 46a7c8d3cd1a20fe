"""WSGI plumbing: requests, JSON responses, routing and error mapping.

``Router`` dispatches a route table to controller methods; every domain
error raised below it becomes an HTTP response here, and only here.
"""

import json

import routes
import webob
import webob.dec
import webob.exc
from oslo_log import log as logging

from glance.common import exception

LOG = logging.getLogger(__name__)

MAX_JSON_BODY = 1024 * 1024
JSON = 'application/json'


class Request(webob.Request):
    """A webob request that knows its context and reads bounded bodies."""

    @property
    def context(self):
        return self.environ['glance.context']

    def has_body(self):
        if self.content_length:
            return True
        return 'chunked' in self.headers.get('Transfer-Encoding', '').lower()

    def read_body(self, limit=MAX_JSON_BODY):
        stream = self.environ['wsgi.input']
        length = self.content_length
        if length is not None:
            if length > limit:
                raise exception.RequestEntityTooLarge(
                    'Request body larger than %d bytes.' % limit)
            data = stream.read(length)
        else:
            data = stream.read(limit + 1)
            if len(data) > limit:
                raise exception.RequestEntityTooLarge(
                    'Request body larger than %d bytes.' % limit)
        return data

    def json(self, expect=(dict,)):
        """The JSON body, which must be one of the ``expect`` types."""
        if not self.has_body():
            raise exception.BadRequest('Body expected in request.')
        raw = self.read_body()
        try:
            text = raw.decode('utf-8')
            body = json.loads(text)
        except (UnicodeDecodeError, ValueError) as e:
            raise exception.BadRequest('Malformed JSON in request body: %s'
                                       % e)
        except RecursionError:
            raise exception.BadRequest('Malformed JSON in request body: '
                                       'nested too deeply.')
        if not isinstance(body, expect):
            raise exception.BadRequest('Unexpected body type. Expected %s.'
                                       % ' or '.join(
                                           'list' if t is list else 'dict'
                                           for t in expect))
        return body

    def reject_body(self):
        if self.has_body():
            raise exception.BadRequest('A body is not expected with this '
                                       'request.')


def json_response(data, status=200, headers=None):
    resp = webob.Response(status=status, content_type=JSON, charset='UTF-8')
    resp.body = json.dumps(data, separators=(',', ':')).encode('utf-8')
    if headers:
        resp.headers.update(headers)
    return resp


def empty_response(status=204, headers=None):
    resp = webob.Response(status=status)
    resp.content_type = None
    if headers:
        resp.headers.update(headers)
    return resp


def error_response(req, code, message, headers=None):
    """webob's error page: text, HTML or JSON per the Accept header."""
    cls = webob.exc.status_map.get(code, webob.exc.HTTPInternalServerError)
    error = cls(explanation=message)
    if headers:
        error.headers.update(headers)
    return req.get_response(error)


def domain_error_response(req, error):
    return error_response(req, error.code, error.msg, error.headers)


class Route:
    """One path of the route table: method -> (controller key, action)."""

    def __init__(self, path, methods):
        self.path = path
        self.methods = methods


class Router:
    """Dispatch a route table; unknown methods get 405 with Allow.

    Each action is bound to its controller here, so a table naming a
    controller or action that does not exist fails when the app is built.
    The path parameters named in ``lowered`` reach the action in lower
    case (identifiers matched whatever the case of the request).
    """

    def __init__(self, table, controllers, lowered=()):
        self.controllers = controllers
        self.lowered = tuple(lowered)
        self.mapper = routes.Mapper()
        for route in table:
            for method, (controller, action) in route.methods.items():
                handler = getattr(controllers[controller], action, None)
                if not callable(handler):
                    raise ValueError('%s %s: %r has no action %r.'
                                     % (method, route.path, controller,
                                        action))
                self.mapper.connect(route.path, handler=handler,
                                    conditions={'method': [method]})
            self.mapper.connect(route.path, handler=None,
                                allowed=', '.join(route.methods))
        # Compiled now rather than on the first request: the workers forked
        # from the process that built the app share them.
        self.mapper.create_regs()

    @webob.dec.wsgify(RequestClass=Request)
    def __call__(self, req):
        match = self.mapper.match(req.path_info, req.environ)
        if match is None:
            if req.method not in ('GET', 'HEAD', 'POST', 'PUT', 'DELETE',
                                  'PATCH'):
                return error_response(req, 501, 'The server does not '
                                      'implement %s.' % req.method)
            return error_response(req, 404, 'The resource could not be '
                                  'found.')
        action = match.pop('handler')
        for name in self.lowered:
            if match.get(name):
                match[name] = match[name].lower()
        if action is None:
            return error_response(req, 405, 'The method is not allowed for '
                                  'this resource.',
                                  {'Allow': match['allowed']})
        try:
            return action(req, **match)
        except exception.GlanceError as e:
            return domain_error_response(req, e)
        except UnicodeDecodeError:
            return error_response(req, 400, 'The request is not valid '
                                  'UTF-8.')
        except webob.exc.HTTPException as e:
            return e
        except Exception:
            LOG.exception('Unhandled error serving %s %s', req.method,
                          req.path)
            return error_response(req, 500, 'The server has either erred or '
                                  'is incapable of performing the '
                                  'requested operation.')
