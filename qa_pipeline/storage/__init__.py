"""The database: SQLAlchemy 2 models, Alembic migrations, idempotent persistence."""
