"""The ``posture`` command line. :mod:`posture.cli.main` builds the app from the command modules
(``scan_aws``, ``scan_azure``, ``scan_gcp``, ``audit``, ``demo``, ``history``, ``evidence``,
``graph``, ``checks``, ``permissions``), which share :mod:`.options` and :mod:`.report`."""
