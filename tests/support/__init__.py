"""What the tests, the demo and the benchmarks stand on, kept out of the `sync` package:

- capture: a PostHog- and Segment-compatible endpoint on 127.0.0.1 (`python -m tests.support.capture`);
- export_servers: Mixpanel- and Amplitude-compatible export APIs, with faults on request;
- synthetic, source_exports: exports of every source, made up with the oddities real ones have;
- helpers: reading a warehouse, running dbt in a copy of the project, a push's environment.
"""
