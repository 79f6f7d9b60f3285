"""Reporters: pure functions from a `ScanResult` to the text of one output format."""
