"""A WordPress-shaped REST API server for offline crawls, fault injection and benchmarks (stdlib only)."""
