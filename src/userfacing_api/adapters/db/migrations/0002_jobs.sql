CREATE TABLE jobs (
    id {job_id} {new_id},
    user_id TEXT NOT NULL,
    user_email TEXT,
    job_name TEXT NOT NULL,
    status TEXT NOT NULL,
    environment TEXT,
    priority INTEGER NOT NULL,
    application TEXT NOT NULL,
    version TEXT NOT NULL,
    entrypoint TEXT NOT NULL,
    attributes {json} NOT NULL,
    hardware {json},
    date_created {timestamp} NOT NULL,
    date_started {timestamp},
    date_finished {timestamp},
    runtime_details TEXT,
    UNIQUE (user_id, job_name)
);

-- Ends with `id` so that the listing's `ORDER BY date_created DESC, id DESC` is read
-- from the index.
CREATE INDEX jobs_user_created ON jobs (user_id, date_created{index_id});

-- The outbox: payloads accepted but not yet taken by the worker-facing API.
CREATE TABLE job_deliveries (
    job_id {job_id} PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    payload {json} NOT NULL,
    job_created {timestamp} NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at {timestamp} NOT NULL,
    claim TEXT,
    locked_until {timestamp}
);

CREATE INDEX job_deliveries_due ON job_deliveries (next_attempt_at);
