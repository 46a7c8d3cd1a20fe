"""Periodic processes that read every active image's data once through
the store drivers: glance-auditor (``auditor``: is the data still what
the image records?) and glance-updater (``updater``: fill in the derived
values older images lack). They share the walk over the catalogue
(``walk``), the paced reading (``reading``), the report, state file and
progress bar (``report``) and their options (``options``).
"""
