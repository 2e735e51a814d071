"""Benchmarks for autotask-magic: ``python -m benchmarks`` (see ``benchmarks/README.md``).

Every figure is a ratio measured side by side in the same run against the built-in sandbox on loopback.
"""
