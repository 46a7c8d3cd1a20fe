"""Serve Keystone's public WSGI application on one loopback port.

Run with the Python of the Keystone virtualenv:

    python keystone_serve.py KEYSTONE_CONF PORT

One process, one request at a time: Keystone on SQLite answers 500
("database is locked") when several requests write at once.  Every
response closes its connection (HTTP/1.0), so clients never reuse a
connection the server has already dropped.
"""

import sys
from wsgiref import simple_server


class Handler(simple_server.WSGIRequestHandler):

    def log_message(self, fmt, *args):
        sys.stderr.write('%s %s\n' % (self.log_date_time_string(),
                                      fmt % args))


class Server(simple_server.WSGIServer):
    request_queue_size = 128
    allow_reuse_address = True


def main():
    conf, port = sys.argv[1], int(sys.argv[2])
    # oslo.config would read the command line as Keystone options.
    del sys.argv[1:]
    from keystone.server.flask import core
    app = core.initialize_application(name='public', config_files=[conf])
    server = simple_server.make_server('127.0.0.1', port, app,
                                       server_class=Server,
                                       handler_class=Handler)
    print('keystone serving on http://127.0.0.1:%d' % port, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == '__main__':
    main()
