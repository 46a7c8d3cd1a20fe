"""glance-replicator: copies images between Image API v2 deployments.

``client`` speaks to one side, ``planning`` says what the target lacks,
``copy`` carries a plan out (data streamed source to target, checked on
arrival), ``commands`` runs livecopy, compare and size over many images,
``dump`` writes images to a directory and loads them back, ``report``
draws the progress bar and the summary, ``identity`` reads who the
replicator is on each side. ``glance.cmd.replicator`` is the command.
"""
