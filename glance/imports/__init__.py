"""Image import: the interoperable import methods (``methods``), the flow
that runs them (``flow``) with its plugins (``plugins``), glance-download,
imports replayed on the node holding staged data (``proxy``), the
location_import task and the legacy ``/v2/tasks`` import.
"""
