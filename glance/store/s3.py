"""The S3 store: image data as objects in a bucket of an S3 server.

Options are upstream's (``s3_store_host``, ``s3_store_access_key``,
``s3_store_secret_key``, ``s3_store_bucket`` ...), and the client is
boto3. An image is the object named after its id. Locations are
``s3://<host[:port]>/<bucket>/<id>`` for a server spoken to over plain
HTTP and ``s3+https://...`` over TLS. Upstream puts the key pair into the
location (``s3://<access>:<secret>@<host>/...``); such locations are read
and deleted with the keys they carry, but the locations written here carry
none: a location is shown to users (``direct_url``, ``locations``) and
logged, and the secret has no business there. The store's own keys are
used for them.

Writing: an image whose size is known and below
``s3_store_large_object_size`` is one PUT (its bytes are held in memory
meanwhile, as upstream). A larger one, or one whose size is unknown, is
a multipart upload: the data is cut into parts of
``s3_store_large_object_chunk_size`` (more when 10,000 parts would not
hold the announced size), and up to ``s3_store_thread_pools`` parts go
to the server at once while the next one is received. Any failure (the
server, the client going away, a wrong size) aborts the multipart upload,
so no part is left behind on the server. Reading asks the server for the
range wanted.

boto3 does its network I/O through sockets that eventlet makes green, so
a transfer waits without holding the worker; the store starts no threads
of its own. A process makes its own client on first use: HTTP connections
opened before the fork into workers are not shared.
"""

import io
import logging
import os
import threading
from urllib import parse

import eventlet
from oslo_config import cfg

from glance.store import driver
from glance.store import exceptions

LOG = logging.getLogger(__name__)

MiB = 1024 * 1024
MAX_PARTS = 10000
MIN_PART = 5 * MiB
# Bytes handed to the caller per piece of a download.
READ_CHUNK = MiB
CONNECT_TIMEOUT = 10
READ_TIMEOUT = 60
SCHEMES = ('s3', 's3+http', 's3+https')

_NOT_FOUND = ('404', 'NoSuchKey', 'NoSuchBucket', 'NotFound')
_DENIED = ('403', 'AccessDenied', 'InvalidAccessKeyId',
           'SignatureDoesNotMatch')
_FULL = ('QuotaExceeded', 'EntityTooLarge')


def _boto():
    try:
        import boto3
        import botocore.config
        import botocore.exceptions
    except ImportError as e:
        raise exceptions.BadStoreConfiguration(
            'The s3 store needs boto3: %s' % e)
    return boto3, botocore


def _code(error):
    """The error code of a botocore ClientError ('' for other errors)."""
    response = getattr(error, 'response', None) or {}
    return str(response.get('Error', {}).get('Code', ''))


class S3Location:
    """The parts of an ``s3``, ``s3+http`` or ``s3+https`` location."""

    def __init__(self, scheme, host, bucket, key, access=None, secret=None):
        self.scheme, self.host, self.bucket, self.key = \
            scheme, host, bucket, key
        self.access, self.secret = access, secret

    @classmethod
    def parse(cls, uri):
        scheme, sep, rest = (uri or '').partition('://')
        if not sep or scheme.lower() not in SCHEMES:
            raise exceptions.BadStoreUri('Not an s3 location')
        creds, at, rest = rest.rpartition('@')
        access = secret = None
        if at:
            access, colon, secret = creds.partition(':')
            if not colon or not access or not secret:
                raise exceptions.BadStoreUri(
                    'The credentials of an s3 location are access:secret')
            access, secret = parse.unquote(access), parse.unquote(secret)
        host, _, path = rest.partition('/')
        bucket, _, key = path.partition('/')
        if not host or not bucket or not key:
            raise exceptions.BadStoreUri(
                'An s3 location is s3://<host>/<bucket>/<object>')
        return cls(scheme.lower(), host, bucket, key, access, secret)

    @property
    def endpoint(self):
        return '%s://%s' % ('https' if self.scheme == 's3+https' else 'http',
                            self.host)

    def uri(self):
        return '%s://%s/%s/%s' % (self.scheme, self.host, self.bucket,
                                  self.key)


class S3Store(driver.Store):

    type_name = 's3'
    schemes = SCHEMES
    capabilities = frozenset({driver.READ, driver.WRITE, driver.SEEK})

    @classmethod
    def config_opts(cls, backend_section=False):
        return [
            cfg.StrOpt('s3_store_host',
                       help='URL of the S3 server, e.g. '
                            'http://127.0.0.1:7480 or https://s3.example.org '
                            '(no scheme: http).'),
            cfg.StrOpt('s3_store_region_name', default='',
                       help='Region of the S3 server; empty lets boto3 '
                            'choose.'),
            cfg.StrOpt('s3_store_access_key', secret=True,
                       help='Access key of the S3 account.'),
            cfg.StrOpt('s3_store_secret_key', secret=True,
                       help='Secret key of the S3 account.'),
            cfg.StrOpt('s3_store_bucket',
                       help='Bucket image data is stored in.'),
            cfg.BoolOpt('s3_store_create_bucket_on_put', default=False,
                        help='Create the bucket when it does not exist.'),
            cfg.StrOpt('s3_store_bucket_url_format', default='auto',
                       choices=('auto', 'virtual', 'path'),
                       help='How the bucket is named in requests: path '
                            '(http://host/bucket/object, for servers '
                            'addressed by IP such as a local RADOS '
                            'Gateway), virtual (http://bucket.host/object) '
                            'or auto (boto3 decides).'),
            cfg.IntOpt('s3_store_large_object_size', default=100, min=1,
                       help='Size in MiB from which an image is sent as '
                            'a multipart upload; smaller images of known '
                            'size are one PUT, held in memory meanwhile.'),
            cfg.IntOpt('s3_store_large_object_chunk_size', default=10,
                       min=5,
                       help='Size in MiB of the parts of a multipart '
                            'upload (S3 needs at least 5).'),
            cfg.IntOpt('s3_store_thread_pools', default=10, min=1,
                       help='Parts of one multipart upload sent to the '
                            'server at the same time.'),
            cfg.StrOpt('s3_store_cacert',
                       help='CA bundle that verifies an https S3 server; '
                            'unset uses the system bundle.'),
        ]

    # -- configuration -------------------------------------------------------

    def configure(self):
        opts = self.options
        self.boto3, self.botocore = _boto()
        missing = [name for name in ('s3_store_host', 's3_store_access_key',
                                     's3_store_secret_key', 's3_store_bucket')
                   if not getattr(opts, name)]
        if missing:
            raise exceptions.BadStoreConfiguration(
                'Store %s: %s must be set' % (self.name, ', '.join(missing)))
        host = opts.s3_store_host.strip().rstrip('/')
        if '://' not in host:
            host = 'http://' + host
        split = parse.urlsplit(host)
        if split.scheme not in ('http', 'https') or not split.netloc:
            raise exceptions.BadStoreConfiguration(
                'Store %s: s3_store_host must be http(s)://host[:port]'
                % self.name)
        self.endpoint = '%s://%s' % (split.scheme, split.netloc)
        self.host = split.netloc
        self.scheme = 's3+https' if split.scheme == 'https' else 's3'
        self.bucket = opts.s3_store_bucket
        self.access_key = opts.s3_store_access_key
        self.secret_key = opts.s3_store_secret_key
        self.region = opts.s3_store_region_name or None
        self.url_format = opts.s3_store_bucket_url_format
        self.large_size = opts.s3_store_large_object_size * MiB
        self.part_size = opts.s3_store_large_object_chunk_size * MiB
        self.parallel = opts.s3_store_thread_pools
        self.create_bucket = opts.s3_store_create_bucket_on_put
        self.cacert = opts.s3_store_cacert
        self._lock = threading.Lock()
        self._clients = {}
        self._pid = None
        # The server answers and takes the keys; the client is dropped
        # (its connections would be shared with the workers after fork).
        client = self._new_client(self.endpoint, self.access_key,
                                  self.secret_key, attempts=1)
        try:
            self._check_bucket(client)
        finally:
            client.close()

    def _check_bucket(self, client):
        botocore = self.botocore
        try:
            client.head_bucket(Bucket=self.bucket)
        except botocore.exceptions.ClientError as e:
            code = _code(e)
            if code in _NOT_FOUND and self.create_bucket:
                return
            if code in _NOT_FOUND:
                raise exceptions.BadStoreConfiguration(
                    'Store %s: bucket %s does not exist on %s (create it, or '
                    'set s3_store_create_bucket_on_put)'
                    % (self.name, self.bucket, self.endpoint))
            if code in _DENIED:
                raise exceptions.BadStoreConfiguration(
                    'Store %s: %s refused the access key %s for bucket %s '
                    '(wrong key pair, or no right to the bucket)'
                    % (self.name, self.endpoint, self.access_key,
                       self.bucket))
            raise exceptions.BadStoreConfiguration(
                'Store %s: %s answered %s to a HEAD of bucket %s'
                % (self.name, self.endpoint, code, self.bucket))
        except botocore.exceptions.BotoCoreError as e:
            raise exceptions.BadStoreConfiguration(
                'Store %s: cannot reach the S3 server %s: %s'
                % (self.name, self.endpoint, e))

    def _new_client(self, endpoint, access, secret, attempts=3):
        config = self.botocore.config.Config(
            s3={'addressing_style': self.url_format},
            # Servers other than AWS may not take the CRC trailers newer
            # boto3 sends by default.
            request_checksum_calculation='when_required',
            response_checksum_validation='when_required',
            retries={'mode': 'standard', 'max_attempts': attempts},
            connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT,
            max_pool_connections=max(10, self.parallel + 2))
        return self.boto3.session.Session().client(
            's3', endpoint_url=endpoint, aws_access_key_id=access,
            aws_secret_access_key=secret, region_name=self.region,
            config=config, verify=self.cacert or None)

    def _client(self, loc=None):
        """This process's client for the store's server, or for the server
        and keys of an (upstream) location."""
        endpoint, access, secret = self.endpoint, self.access_key, \
            self.secret_key
        if loc is not None:
            endpoint = loc.endpoint
            if loc.access:
                access, secret = loc.access, loc.secret
        key = (endpoint, access, secret)
        with self._lock:
            if self._pid != os.getpid():
                self._clients, self._pid = {}, os.getpid()
            if key not in self._clients:
                self._clients[key] = self._new_client(*key)
            return self._clients[key]

    def properties(self):
        return {'s3_store_host': self.endpoint, 'bucket': self.bucket,
                'bucket_url_format': self.url_format,
                'region_name': self.region or '',
                'create_bucket_on_put': self.create_bucket,
                'large_object_size': self.large_size,
                'large_object_chunk_size': self.part_size,
                'thread_pools': self.parallel}

    def location_prefixes(self):
        return ['%s://' % s for s in self.schemes] + [
            '%s://%s/%s/' % (self.scheme, self.host, self.bucket)]

    def _location(self, image_id):
        return S3Location(self.scheme, self.host, self.bucket, image_id)

    def _translate(self, error, what, loc=None):
        """The store exception for a boto3 error."""
        if isinstance(error, exceptions.StoreError):
            return error
        code = _code(error)
        where = loc.uri() if loc is not None else self.endpoint
        if code in _NOT_FOUND:
            return exceptions.NotFound('%s: %s not found' % (what, where))
        if code in _DENIED:
            return exceptions.StorageWriteDenied(
                'Store %s: the S3 server refused to %s (%s)'
                % (self.name, what, code))
        if code in _FULL:
            return exceptions.StorageFull('Store %s: no room to %s (%s)'
                                          % (self.name, what, code))
        if code == 'InvalidRange':
            return exceptions.InvalidRange('%s: %s' % (what, where))
        return exceptions.RemoteServiceUnavailable(
            'Store %s could not %s on %s: %s'
            % (self.name, what, self.endpoint, code or error))

    def _errors(self):
        return (self.botocore.exceptions.ClientError,
                self.botocore.exceptions.BotoCoreError)

    # -- writing -------------------------------------------------------------

    def add(self, image_id, reader, size=None, *, context=None):
        loc = self._location(image_id)
        client = self._client()
        try:
            self._prepare(client, image_id)
            if size is not None and size < self.large_size:
                written = self._put(client, image_id, reader, size)
            else:
                written = self._multipart(client, image_id, reader, size)
        except self._errors() as e:
            raise self._translate(e, 'store image %s' % image_id)
        return loc.uri(), written, self.location_metadata()

    def _prepare(self, client, image_id):
        """Duplicate when the object exists; the bucket made if asked."""
        errors = self.botocore.exceptions.ClientError
        try:
            client.head_object(Bucket=self.bucket, Key=image_id)
        except errors as e:
            if _code(e) not in _NOT_FOUND:
                raise
        else:
            raise exceptions.Duplicate('Store %s already holds object %s/%s'
                                       % (self.name, self.bucket, image_id))
        if not self.create_bucket:
            return
        try:
            client.head_bucket(Bucket=self.bucket)
        except errors as e:
            if _code(e) not in _NOT_FOUND:
                raise
            try:
                client.create_bucket(Bucket=self.bucket)
            except errors as e:
                # Made meanwhile by another upload: fine.
                if _code(e) not in ('BucketAlreadyOwnedByYou',
                                    'BucketAlreadyExists'):
                    raise

    def _put(self, client, image_id, reader, size):
        data = bytearray()
        for chunk in driver.read_chunks(reader):
            data += chunk
            if len(data) > size:
                raise exceptions.SizeMismatch(
                    'Image data exceeds the announced size of %d bytes'
                    % size)
        if len(data) != size:
            raise exceptions.SizeMismatch(
                'Image data ended after %d of the announced %d bytes'
                % (len(data), size))
        client.put_object(Bucket=self.bucket, Key=image_id,
                          Body=_Body(bytes(data)))
        return size

    def _part_size(self, size):
        if size is None:
            return self.part_size
        needed = -(-size // MAX_PARTS)
        return max(self.part_size, needed, MIN_PART)

    def _multipart(self, client, image_id, reader, size):
        upload = client.create_multipart_upload(Bucket=self.bucket,
                                                Key=image_id)['UploadId']
        pool = eventlet.GreenPool(self.parallel)
        running = []
        written = 0
        try:
            for number, part in enumerate(
                    _parts(reader, self._part_size(size)), 1):
                written += len(part)
                if size is not None and written > size:
                    raise exceptions.SizeMismatch(
                        'Image data exceeds the announced size of %d bytes'
                        % size)
                # A failed part stops the upload before more is read.
                for done in [r for r in running if r.dead]:
                    done.wait()
                running.append(pool.spawn(self._upload_part, client,
                                          image_id, upload, number, part))
            if size is not None and written != size:
                raise exceptions.SizeMismatch(
                    'Image data ended after %d of the announced %d bytes'
                    % (written, size))
            parts = [r.wait() for r in running]
            if not parts:
                # No data: an empty object rather than an upload of none.
                self._abort(client, image_id, upload)
                upload = None
                client.put_object(Bucket=self.bucket, Key=image_id,
                                  Body=b'')
                return 0
            client.complete_multipart_upload(
                Bucket=self.bucket, Key=image_id, UploadId=upload,
                MultipartUpload={'Parts': parts})
            upload = None
            return written
        except BaseException:
            # Parts still going: waited for, so none lands after the
            # abort and stays on the server.
            for r in running:
                try:
                    r.wait()
                except BaseException:
                    pass
            if upload is not None:
                self._abort(client, image_id, upload)
            raise

    def _upload_part(self, client, image_id, upload, number, data):
        answer = client.upload_part(Bucket=self.bucket, Key=image_id,
                                    UploadId=upload, PartNumber=number,
                                    Body=_Body(data))
        return {'ETag': answer['ETag'], 'PartNumber': number}

    def _abort(self, client, image_id, upload):
        try:
            client.abort_multipart_upload(Bucket=self.bucket, Key=image_id,
                                          UploadId=upload)
        except Exception as e:
            if _code(e) == 'NoSuchUpload':
                return
            # The server keeps the parts until told: told once it answers.
            LOG.warning('Store %s could not abort the multipart upload of '
                        '%s, trying again in the background: %s',
                        self.name, image_id, e)
            driver.retry_in_background(
                lambda: self._abort_now(client, image_id, upload),
                'abort the multipart upload of %s in store %s'
                % (image_id, self.name))

    def _abort_now(self, client, image_id, upload):
        try:
            client.abort_multipart_upload(Bucket=self.bucket, Key=image_id,
                                          UploadId=upload)
        except self.botocore.exceptions.ClientError as e:
            if _code(e) != 'NoSuchUpload':
                raise

    # -- reading -------------------------------------------------------------

    def _parse(self, location):
        return S3Location.parse(location)

    def get(self, location, offset=0, length=None, *, context=None):
        driver.check_range(offset, length)
        loc = self._parse(location)
        client = self._client(loc)
        if length == 0:
            return driver.ChunkIterator(iter(())), self.get_size(location)
        kwargs = {}
        if offset or length is not None:
            end = '' if length is None else offset + length - 1
            kwargs['Range'] = 'bytes=%d-%s' % (offset, end)
        try:
            answer = client.get_object(Bucket=loc.bucket, Key=loc.key,
                                       **kwargs)
        except self._errors() as e:
            if _code(e) == 'InvalidRange':
                raise exceptions.InvalidRange(
                    'Offset %d beyond the end of %s' % (offset, location))
            raise self._translate(e, 'read', loc)
        body = answer['Body']
        total = answer.get('ContentLength')
        content_range = answer.get('ContentRange') or ''
        if content_range:
            total = content_range.rpartition('/')[2]
            total = int(total) if total.isdigit() else None
        return (driver.ChunkIterator(self._chunks(body, loc), body.close,
                                     seekable=True), total)

    def _chunks(self, body, loc):
        while True:
            try:
                chunk = body.read(READ_CHUNK)
            except self._errors() as e:
                raise self._translate(e, 'read', loc)
            except OSError as e:
                raise exceptions.RemoteServiceUnavailable(
                    'Store %s: reading %s failed: %s'
                    % (self.name, loc.uri(), e))
            if not chunk:
                return
            yield chunk

    def get_size(self, location, *, context=None):
        loc = self._parse(location)
        try:
            answer = self._client(loc).head_object(Bucket=loc.bucket,
                                                   Key=loc.key)
        except self._errors() as e:
            raise self._translate(e, 'find the size', loc)
        return answer['ContentLength']

    # -- deleting ------------------------------------------------------------

    def delete(self, location, *, context=None):
        loc = self._parse(location)
        client = self._client(loc)
        try:
            # DELETE answers 204 for a missing object too.
            client.head_object(Bucket=loc.bucket, Key=loc.key)
            client.delete_object(Bucket=loc.bucket, Key=loc.key)
        except self._errors() as e:
            raise self._translate(e, 'delete', loc)


class _Body(io.BytesIO):
    """Data sent to the server that lets the other requests of the
    process run between its reads: botocore hashes a plain-HTTP payload
    for its signature (SHA-256, a read of 1 MiB at a time) and sends it
    in reads, all on the hub, which one part of 10 MiB would otherwise
    hold for tens of milliseconds."""

    def __init__(self, data):
        super().__init__(data)
        self._since_turn = 0

    def read(self, size=-1):
        data = super().read(size)
        self._since_turn += len(data)
        if self._since_turn >= READ_CHUNK:
            self._since_turn = 0
            eventlet.sleep(0)
        return data


def _parts(reader, part_size):
    """The data of ``reader`` in pieces of ``part_size`` bytes (the last
    one smaller)."""
    buffer = bytearray()
    for chunk in driver.read_chunks(reader):
        buffer += chunk
        while len(buffer) >= part_size:
            yield bytes(buffer[:part_size])
            del buffer[:part_size]
    if buffer:
        yield bytes(buffer)
