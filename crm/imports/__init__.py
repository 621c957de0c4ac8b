"""Importing clients from CSV/XLSX files: `files` (uploads, tables, mapping guesses,
retention), `values` (options, rows, outcome), `importer` (read and validate rows),
`writer` (write batches), `jobs` (an import as a job row the panel and the CLI run)."""
