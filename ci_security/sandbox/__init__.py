"""The dynamic scan: run the image's entrypoint in an isolated sandbox for a bounded time and record
what it does (`dynamic.prepare` and `dynamic.observe`). See docs/dynamic.md for the isolation model
and what a run can and cannot show.
"""
