"""The summary tables, the report page, the synthesis and the portraits."""
