"""Time as the service records and shows it: naive UTC datetimes in the
database, ``YYYY-MM-DDTHH:MM:SSZ`` in API bodies and notifications."""

import datetime

_UTC = datetime.timezone.utc


def utcnow() -> datetime.datetime:
    """The current UTC time as a naive datetime (what the columns hold)."""
    return datetime.datetime.now(_UTC).replace(tzinfo=None)


def now() -> datetime.datetime:
    """The current UTC time to the second: the stamp of a record change."""
    return utcnow().replace(microsecond=0)


def isotime(value: 'datetime.datetime | str | None') -> 'str | None':
    """``YYYY-MM-DDTHH:MM:SSZ`` of a datetime (naive values are UTC);
    None stays None and a string is taken as already formatted."""
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is not None:
        value = value.astimezone(_UTC).replace(tzinfo=None)
    # isoformat is cheaper than strftime; this is on every API body.
    return value.isoformat()[:19] + 'Z'
