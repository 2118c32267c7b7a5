"""Defaults the command line shows in its help, in a module that imports nothing.

Kept apart from the modules that use them so that `decode-cloud --help` (and any
command's argument errors) need not import aiohttp.
"""

URL_VARIABLE = "DECODE_CLOUD_URL"
POLL_SECONDS = 2.0
"""How often a job is read where the service streams no events."""
PARALLEL_FILES = 4
"""Files moved at the same time by an upload or download of several files."""
PROVIDERS = ("local", "cognito")
