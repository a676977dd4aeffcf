"""The collector: a FastAPI service that stores events idempotently per project (SQLite or PostgreSQL)."""
