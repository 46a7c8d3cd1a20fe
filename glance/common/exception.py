"""Domain errors.

Service functions raise these plain exceptions; ``glance.common.wsgi``
turns them into HTTP responses in one place, using ``code``.
"""


class GlanceError(Exception):
    code = 500
    message = 'An unknown error occurred.'

    def __init__(self, message=None, headers=None):
        self.msg = message or self.message
        self.headers = headers or {}
        super().__init__(self.msg)


class Invalid(GlanceError):
    code = 400
    message = 'The request is invalid.'


class BadRequest(Invalid):
    pass


class SignatureVerificationError(BadRequest):
    """The signature of image data cannot be checked or does not match."""
    message = 'Signature verification failed.'


class NotAuthenticated(GlanceError):
    code = 401
    message = 'You are not authenticated.'


class Forbidden(GlanceError):
    code = 403
    message = 'You are not authorized to complete this action.'


class ReadonlyProperty(Forbidden):
    pass


class ReservedProperty(Forbidden):
    pass


class ProtectedImageDelete(Forbidden):
    pass


class NotFound(GlanceError):
    code = 404
    message = 'The resource could not be found.'


class ImageNotFound(NotFound):
    pass


class MethodNotAllowed(GlanceError):
    code = 405
    message = 'The method is not allowed for this resource.'


class Conflict(GlanceError):
    code = 409
    message = 'The request conflicts with the current state.'


class Duplicate(Conflict):
    pass


class InvalidImageStatusTransition(Conflict):
    pass


class LimitExceeded(GlanceError):
    code = 413
    message = 'The request exceeds a limit.'


class RequestEntityTooLarge(LimitExceeded):
    pass


class RangeNotSatisfiable(GlanceError):
    code = 416
    message = 'Requested range not satisfiable.'


class UnsupportedMediaType(GlanceError):
    code = 415
    message = 'The media type of the request is not supported.'


class HeaderTooLarge(GlanceError):
    code = 431
    message = 'A request header is too large.'


class ServiceUnavailable(GlanceError):
    code = 503
    message = 'The service is temporarily unavailable.'


class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot be reached, or lost the connection."""
    message = 'The database is unavailable; retry the request later.'


class DatabaseDeadlock(ServiceUnavailable):
    """The database aborted the transaction (deadlock, lock wait timeout,
    serialization or Galera certification failure) more times than
    retries allow."""
    message = ('The database aborted the transaction because of '
               'concurrent ones; retry the request.')


class BadGateway(GlanceError):
    code = 502
    message = 'An upstream node answered badly.'


class GatewayTimeout(GlanceError):
    code = 504
    message = 'An upstream node could not be reached.'
