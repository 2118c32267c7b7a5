"""The webargs parser behind aiohttp-apispec's validation, with errors in our shape.

webargs answers an unparsable JSON body by building an aiohttp exception with
arguments current aiohttp no longer accepts (a 500); here it is a plain 400.
"""

from __future__ import annotations

import warnings
from typing import Any, NoReturn

from aiohttp import web
from aiohttp.web_exceptions import NotAppKeyWarning
from webargs.aiohttpparser import AIOHTTPParser

from userfacing_api.adapters.http.errors import raise_validation_error
from userfacing_api.domain.errors import BadRequest

# The key under which aiohttp-apispec's validation middleware looks up its parser.
_APISPEC_PARSER_KEY = "_apispec_parser"


class RequestParser(AIOHTTPParser):  # type: ignore[misc]
    def handle_invalid_json_error(
        self, error: Exception, req: Any, *args: Any, **kwargs: Any
    ) -> NoReturn:
        raise BadRequest("Invalid JSON body") from error


def install_request_parser(app: web.Application) -> None:
    """Replace the parser aiohttp-apispec set up (call after `setup_aiohttp_apispec`)."""
    parser = RequestParser()
    parser.error_callback = raise_validation_error
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotAppKeyWarning)
        app[_APISPEC_PARSER_KEY] = parser
