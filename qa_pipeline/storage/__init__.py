"""The database: SQLAlchemy 2 tables, Alembic migrations, idempotent persistence, and the
repositories every other package reads and writes through. Only this package builds queries;
what leaves it is frozen records (and the `Engine` handle from db.py)."""
