"""Image data stores: the driver interface (``driver``), the drivers
(``filesystem``, ``http``), their options (``options``) and the configured
stores (``registry``)."""
