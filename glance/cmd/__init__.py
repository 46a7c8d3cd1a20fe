"""The console scripts (one module each).

Importing eventlet warns, on every run, that eventlet is in maintenance
mode: nothing an operator running ``glance-manage --help`` can act on. The
scripts drop that one warning, by its text, before anything imports
eventlet; every other warning, eventlet's included, is shown as before.
"""

import warnings

warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated\.',
                        category=Warning)
