"""The webargs parser behind aiohttp-apispec's validation, with errors in our shape.

webargs answers an unparsable JSON body by building an aiohttp exception with
arguments current aiohttp no longer accepts (a 500), and lets everything else
a malformed body raises escape; here each is a plain 400.
"""

from __future__ import annotations

import re
import warnings
from typing import Any, NoReturn

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_exceptions import NotAppKeyWarning
from webargs.aiohttpparser import AIOHTTPParser

from userfacing_api.adapters.http.errors import raise_validation_error
from userfacing_api.domain.errors import BadRequest

# The key under which aiohttp-apispec's validation middleware looks up its parser.
_APISPEC_PARSER_KEY = "_apispec_parser"

# Beyond what webargs catches: an unknown charset (LookupError), a number too long
# to convert (ValueError) and nesting deeper than the interpreter's stack (RecursionError).
_JSON_ERRORS = (ValueError, LookupError, RecursionError)
# Undecodable text, an unknown charset, a multipart body without or with broken
# boundaries or part headers.
_FORM_ERRORS = (ValueError, LookupError, HttpProcessingError)
# JSON's \ud800-style escapes can leave half a surrogate pair in a string:
# no text encoding, database or storage key accepts it.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class RequestParser(AIOHTTPParser):  # type: ignore[misc]
    async def parse_json(self, req: web.Request, name: str, field: Any) -> Any:
        fresh = "json" not in self._cache
        try:
            value = await super().parse_json(req, name, field)
        except _JSON_ERRORS as err:
            raise BadRequest("Invalid JSON body") from err
        if fresh and holds_lone_surrogate(self._cache.get("json")):
            raise BadRequest("Invalid JSON body: a string holds half a surrogate pair")
        return value

    async def parse_form(self, req: web.Request, name: str, field: Any) -> Any:
        try:
            return await super().parse_form(req, name, field)
        except _FORM_ERRORS as err:
            raise BadRequest("Malformed form body") from err

    def handle_invalid_json_error(
        self, error: Exception, req: Any, *args: Any, **kwargs: Any
    ) -> NoReturn:
        raise BadRequest("Invalid JSON body") from error


def holds_lone_surrogate(document: Any) -> bool:
    """Walks without recursion: the document may nest as deep as the JSON decoder allowed."""
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if not value.isascii() and _LONE_SURROGATE.search(value):
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def install_request_parser(app: web.Application) -> None:
    """Replace the parser aiohttp-apispec set up (call after `setup_aiohttp_apispec`)."""
    parser = RequestParser()
    parser.error_callback = raise_validation_error
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotAppKeyWarning)
        app[_APISPEC_PARSER_KEY] = parser
