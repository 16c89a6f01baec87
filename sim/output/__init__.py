"""The files of a run: tables written and read, the report, and the folder written atomically and read back."""
