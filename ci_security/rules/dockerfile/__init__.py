"""Dockerfile support: `parse.py` turns the text into stages and instructions with exact line spans.

The parser never raises on bad input: problems become `ParseIssue` values so that manifest checks can
report them as findings and image findings can still be anchored to the lines that did parse.
"""
