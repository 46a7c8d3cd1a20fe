"""Serve Barbican's API (the paste file tools/barbican writes) on one
loopback port, with waitress.

Run with the Python of the Barbican virtualenv, from its data directory
(Barbican finds its configuration in ``~``, which tools/barbican sets to
that directory):

    python barbican_serve.py PASTE_INI PORT

One worker thread: Barbican on SQLite cannot take concurrent writes.
"""

import sys


def main():
    paste_ini, port = sys.argv[1], int(sys.argv[2])
    # oslo.config would read the command line as Barbican options.
    del sys.argv[1:]
    from paste import deploy
    import waitress
    app = deploy.loadapp('config:' + paste_ini)
    print('barbican serving on http://127.0.0.1:%d' % port, flush=True)
    waitress.serve(app, host='127.0.0.1', port=port, threads=1,
                   ident='barbican')


if __name__ == '__main__':
    main()
