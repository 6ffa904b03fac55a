"""Performance bench (`make bench`, `rag perf`): index timings, HTTP load, scale runs, reports."""
