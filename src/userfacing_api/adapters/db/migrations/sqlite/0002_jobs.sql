-- Dates are ISO 8601 text in UTC with microseconds, so text order is time order.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    user_email TEXT,
    job_name TEXT NOT NULL,
    status TEXT NOT NULL,
    environment TEXT,
    priority INTEGER NOT NULL,
    application TEXT NOT NULL,
    version TEXT NOT NULL,
    entrypoint TEXT NOT NULL,
    attributes TEXT NOT NULL,
    hardware TEXT,
    date_created TEXT NOT NULL,
    date_started TEXT,
    date_finished TEXT,
    runtime_details TEXT,
    UNIQUE (user_id, job_name)
);

CREATE INDEX jobs_user_created ON jobs (user_id, date_created);

-- The outbox: payloads accepted but not yet taken by the worker-facing API.
CREATE TABLE job_deliveries (
    job_id INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    payload TEXT NOT NULL,
    job_created TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at TEXT NOT NULL,
    claim TEXT,
    locked_until TEXT
);

CREATE INDEX job_deliveries_due ON job_deliveries (next_attempt_at);
