"""One module per schema revision, applied in order by server.migrate."""
