"""The PostgreSQL engine (asyncpg), for one or several service instances."""
