"""Agent and tool responses -> result rows: the output mappers.

The details: docs/runtime.md, `output_mapping/__init__.py`.
"""
