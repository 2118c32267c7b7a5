"""Generated request ids: 32 hex digits, never repeated, not shared with a forked process."""

from __future__ import annotations

import os
import re

from userfacing_api.adapters.http.request_ids import new_request_id

HEX_32 = re.compile(r"^[0-9a-f]{32}$")


def test_generated_ids_are_32_hex_digits_and_distinct() -> None:
    ids = [new_request_id() for _ in range(1000)]

    assert all(HEX_32.match(request_id) for request_id in ids)
    assert len(set(ids)) == len(ids)


def test_a_forked_process_numbers_its_requests_under_another_prefix() -> None:
    parent = new_request_id()
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:
        os.write(writing, new_request_id().encode())
        os._exit(0)
    os.close(writing)
    with os.fdopen(reading) as pipe:
        from_child = pipe.read()
    os.waitpid(child, 0)

    assert HEX_32.match(from_child)
    assert from_child[:16] != parent[:16]
