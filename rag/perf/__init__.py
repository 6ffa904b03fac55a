"""Performance bench (`make bench`, `python -m rag.perf`): index timings, HTTP load, scale runs, reports."""
