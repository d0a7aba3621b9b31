"""Alembic environment: runs on the connection the application hands it."""

from __future__ import annotations

from alembic import context

from qa_pipeline.storage.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:  # `alembic` on the command line: QA_PIPELINE_DB or the default file
    import os

    from sqlalchemy import create_engine

    from qa_pipeline.storage.db import default_url

    engine = create_engine(os.environ.get("QA_PIPELINE_DB", default_url()))
    with engine.begin() as connection:
        context.configure(
            connection=connection, target_metadata=Base.metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
