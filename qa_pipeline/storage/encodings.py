"""Sentence encodings kept beside the transcripts (the understanding stage's EncodingStore)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Engine, select

from qa_pipeline.storage.tables import EncodingRow
from qa_pipeline.storage.upsert import insert_for

_CHUNK = 500  # keys per query: well under every database's parameter limit


class Encodings:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get_encodings(self, keys: Sequence[str]) -> Mapping[str, bytes]:
        found: dict[str, bytes] = {}
        with self.engine.connect() as connection:
            for i in range(0, len(keys), _CHUNK):
                query = select(EncodingRow.key, EncodingRow.vector).where(
                    EncodingRow.key.in_(keys[i : i + _CHUNK])
                )
                found |= {key: bytes(vector) for key, vector in connection.execute(query)}
        return found

    def put_encodings(self, items: Mapping[str, bytes]) -> None:
        if not items:
            return
        rows = [{"key": key, "vector": vector} for key, vector in sorted(items.items())]
        with self.engine.begin() as connection:
            statement = insert_for(connection, EncodingRow).on_conflict_do_nothing(
                index_elements=["key"]
            )
            connection.execute(statement, rows)
