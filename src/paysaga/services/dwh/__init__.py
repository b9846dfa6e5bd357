"""DWH: an embedded analytical store (DuckDB) fed from every topic, with derived views and reports."""
