"""The SQLite engine (aiosqlite), for the embedded single-instance setup."""
