"""Performance bench (`make bench`, `python -m bench`): index timings, HTTP load, scale runs, reports."""
