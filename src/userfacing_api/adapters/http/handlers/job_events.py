"""Following jobs: a job's history as JSON, and live Server-Sent Event streams.

A stream sends every past event after `Last-Event-ID`, then each new one as
`id: <seq>`, `event: status`, `data: <event JSON>`, and a comment every
heartbeat. When the client goes away, the handler is cancelled (the server
runs with handler cancellation) and the stream's subscription and iterator
are closed on the way out, so nothing stays behind.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing

from aiohttp import web
from aiohttp_apispec import docs, headers_schema, match_info_schema
from aiohttp_sse import sse_response
from marshmallow import Schema

from userfacing_api.adapters.http.app_keys import principal, services
from userfacing_api.adapters.http.schemas.common import ErrorSchema
from userfacing_api.adapters.http.schemas.jobs import (
    EventStreamHeadersSchema,
    JobEventSchema,
    JobIdSchema,
    UserJobEventSchema,
)
from userfacing_api.domain.errors import DomainError
from userfacing_api.domain.events import JobEvent

logger = logging.getLogger(__name__)

routes = web.RouteTableDef()

TAGS = ["Jobs"]
EVENT_STREAM = "text/event-stream"
JOB_EVENT_SCHEMA = JobEventSchema()
JOB_EVENTS_SCHEMA = JobEventSchema(many=True)
USER_JOB_EVENT_SCHEMA = UserJobEventSchema()
STREAM = (
    "Server-Sent Events `id: <seq>`, `event: status`, `data: <event JSON>` (text/event-stream),"
    " and a comment line as heartbeat every 15 s"
)


@routes.get("/jobs/events")
@docs(
    tags=TAGS,
    summary="Live events of all your jobs (Server-Sent Events)",
    description=(
        "Every event of your jobs after `Last-Event-ID`, then each new one as it happens;"
        " each `data` also holds the `job_id`. The stream stays open."
    ),
    responses={200: {"description": STREAM, "schema": UserJobEventSchema()}},
)
@headers_schema(EventStreamHeadersSchema())
async def follow_all_jobs(request: web.Request) -> web.StreamResponse:
    after = request["headers"]["last_event_id"]
    events = services(request).job_events.follow_user(principal(request).user_id, after)
    return await _stream(request, events, USER_JOB_EVENT_SCHEMA)


@routes.get("/jobs/{job_id}/events")
@docs(
    tags=TAGS,
    summary="A job's history, oldest first; live with Accept: text/event-stream",
    description=(
        "One event per change of status, starting with `queued` at creation. With"
        " `Accept: text/event-stream` the answer is a stream of the events after"
        " `Last-Event-ID`, then each new one; it ends after `finished`, `error` or `cancelled`."
    ),
    responses={
        200: {
            "description": f"The events oldest first; with `Accept: text/event-stream`: {STREAM}",
            "schema": JobEventSchema(many=True),
        },
        404: {"description": "No such job among yours", "schema": ErrorSchema()},
    },
)
@match_info_schema(JobIdSchema())
@headers_schema(EventStreamHeadersSchema())
async def job_events(request: web.Request) -> web.StreamResponse:
    job_id = request["match_info"]["job_id"]
    user_id = principal(request).user_id
    service = services(request).job_events
    if EVENT_STREAM not in request.headers.get("Accept", ""):
        return web.json_response(JOB_EVENTS_SCHEMA.dump(await service.history(user_id, job_id)))
    after = request["headers"]["last_event_id"]
    return await _stream(
        request, await service.follow_job(user_id, job_id, after), JOB_EVENT_SCHEMA
    )


async def _stream(
    request: web.Request, events: AsyncGenerator[JobEvent, None], schema: Schema
) -> web.StreamResponse:
    heartbeat = services(request).job_events.heartbeat_seconds
    async with aclosing(events), sse_response(request, ping_interval=heartbeat) as stream:
        try:
            async for event in events:
                data = json.dumps(schema.dump(event))
                await stream.send(data, id=str(event.seq), event="status")
        except DomainError as err:
            # The answer has begun: the stream can only end; the client resumes later.
            logger.warning("event stream ended early: %s", err.detail)
    return stream
