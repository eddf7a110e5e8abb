"""Streams column mappings to one CSV or Parquet file per table, every column as text."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


def _text_column(values, length: int) -> pa.Array:
    """Any list or array as strings, with '' and None both written as an empty field."""
    if values is None:
        return pa.nulls(length, pa.string())
    array = values if isinstance(values, pa.Array) else pa.array(values, type=pa.string())
    if array.type != pa.string():
        array = pc.cast(array, pa.string())
    return pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)


class TableWriters:
    """One writer per table, opened on first use; the ground truth is always CSV."""

    def __init__(self, out: Path, fmt: str, contract: dict[str, tuple[str, ...]]) -> None:
        self.out, self.fmt, self.contract = out, fmt, contract
        self.writers: dict[str, pacsv.CSVWriter | pq.ParquetWriter] = {}
        self.rows: dict[str, int] = {name: 0 for name in contract}

    def _schema(self, name: str) -> pa.Schema:
        return pa.schema([(column, pa.string()) for column in self.contract[name]])

    def _writer(self, name: str):
        if name not in self.writers:
            fmt = "csv" if name == "truth_person_records" else self.fmt
            path = self.out / f"{name}.{fmt}"
            if fmt == "csv":
                self.writers[name] = pacsv.CSVWriter(
                    path,
                    self._schema(name),
                    write_options=pacsv.WriteOptions(quoting_style="needed"),
                )
            else:
                self.writers[name] = pq.ParquetWriter(path, self._schema(name), compression="zstd")
        return self.writers[name]

    def write(self, name: str, columns: dict) -> None:
        length = max((len(v) for v in columns.values()), default=0)
        table = pa.table(
            [_text_column(columns.get(c), length) for c in self.contract[name]],
            schema=self._schema(name),
        )
        self._writer(name).write_table(table)
        self.rows[name] += length

    def __enter__(self) -> TableWriters:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for name in self.contract:  # header-only files for tables that got no rows
            self._writer(name)
        for writer in self.writers.values():
            writer.close()
