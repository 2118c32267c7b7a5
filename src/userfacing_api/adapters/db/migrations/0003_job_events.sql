-- A job's history: one row per change of status (and per word from the worker side).
-- Numbers follow the order in which a user's events commit: SQLite has one writer at a
-- time; on PostgreSQL each insert draws its number under a per-user lock.
CREATE TABLE job_events (
    seq {job_id} {new_id},
    job_id {job_id} NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    time {timestamp} NOT NULL,
    status TEXT NOT NULL,
    runtime_details TEXT
);

CREATE INDEX job_events_job ON job_events (job_id, seq);
CREATE INDEX job_events_user ON job_events (user_id, seq);

-- Jobs from before the history: created `queued`, then their current status.
INSERT INTO job_events (job_id, user_id, time, status)
SELECT id, user_id, date_created, 'queued' FROM jobs ORDER BY id;
INSERT INTO job_events (job_id, user_id, time, status, runtime_details)
SELECT id, user_id, COALESCE(date_finished, date_started, date_created), status, runtime_details
FROM jobs WHERE status <> 'queued' ORDER BY id;

-- Filtered listings, read in newest-first order from these.
CREATE INDEX jobs_user_status_created ON jobs (user_id, status, date_created{index_id});
CREATE INDEX jobs_user_application_created ON jobs (user_id, application, date_created{index_id});
