"""The open-data files of /donnees/: the column catalogue (`columns`), the rows
streamed as CSV and JSON (`streams`), their descriptions (`describe`: Table
Schema, README, DCAT) and the views that serve them (`views`)."""
