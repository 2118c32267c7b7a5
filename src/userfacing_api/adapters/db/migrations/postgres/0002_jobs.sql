CREATE TABLE jobs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id TEXT NOT NULL,
    user_email TEXT,
    job_name TEXT NOT NULL,
    status TEXT NOT NULL,
    environment TEXT,
    priority INTEGER NOT NULL,
    application TEXT NOT NULL,
    version TEXT NOT NULL,
    entrypoint TEXT NOT NULL,
    attributes JSONB NOT NULL,
    hardware JSONB,
    date_created TIMESTAMPTZ NOT NULL,
    date_started TIMESTAMPTZ,
    date_finished TIMESTAMPTZ,
    runtime_details TEXT,
    UNIQUE (user_id, job_name)
);

-- `id` last so that the listing's `ORDER BY date_created DESC, id DESC` is read from the index.
CREATE INDEX jobs_user_created ON jobs (user_id, date_created, id);

-- The outbox: payloads accepted but not yet taken by the worker-facing API.
CREATE TABLE job_deliveries (
    job_id BIGINT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    payload JSONB NOT NULL,
    job_created TIMESTAMPTZ NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    claim TEXT,
    locked_until TIMESTAMPTZ
);

CREATE INDEX job_deliveries_due ON job_deliveries (next_attempt_at);
