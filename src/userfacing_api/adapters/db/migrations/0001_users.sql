CREATE TABLE users (
    user_id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    groups_json TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at {timestamp} NOT NULL
);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    private_pem TEXT NOT NULL,
    created_at {timestamp} NOT NULL
);
