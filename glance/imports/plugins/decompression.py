"""The image_decompression plugin: staged data compressed with gzip or
zip (one member) is decompressed in place, unless the image says its
container format is ``compressed``."""

import gzip
import os
import zipfile

from oslo_config import cfg

from glance.common import exception

CONF = cfg.CONF
GZIP_MAGIC = b'\x1f\x8b'
ZIP_MAGIC = b'PK\x03\x04'


def run(image, path, roles):
    if image.get('container_format') == 'compressed':
        return {}
    with open(path, 'rb') as f:
        head = f.read(4)
    target = path + '.uc'
    try:
        if head.startswith(GZIP_MAGIC):
            with gzip.open(path, 'rb') as src, open(target, 'wb') as dst:
                _copy_bounded(src, dst)
        elif head.startswith(ZIP_MAGIC):
            with zipfile.ZipFile(path) as archive:
                members = archive.namelist()
                if len(members) != 1:
                    raise exception.Invalid('A zip archive to import must '
                                            'hold exactly one file, not %d.'
                                            % len(members))
                with archive.open(members[0]) as src, \
                        open(target, 'wb') as dst:
                    _copy_bounded(src, dst)
        else:
            return {}
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        _remove(target)
        raise exception.Invalid('Cannot decompress the image data: %s' % e)
    except BaseException:
        _remove(target)
        raise
    os.replace(target, path)
    return {'size': os.path.getsize(path)}


def _copy_bounded(src, dst):
    """Copy, refusing to expand past the image size cap (a zip bomb)."""
    total = 0
    while True:
        chunk = src.read(1024 * 1024)
        if not chunk:
            return
        total += len(chunk)
        if total > CONF.image_size_cap:
            raise exception.RequestEntityTooLarge(
                'Decompressed image data exceeds %d bytes.'
                % CONF.image_size_cap)
        dst.write(chunk)


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
