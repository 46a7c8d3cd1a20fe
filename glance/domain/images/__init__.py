"""Images: their records, data, locations, members and the rules on them.

One module per subject; each service function reads top to bottom (load,
policy, rules, state change, save, notification). Low modules that the
others share: ``rules`` (status transitions, text checks), ``quota``,
``records`` (loading an image as a caller may see it), ``hashing`` and
``stream`` (the data path both ways).
"""
