"""Batch runs from the command line: CSV analysis, mapping configs, local and AWS engines."""
