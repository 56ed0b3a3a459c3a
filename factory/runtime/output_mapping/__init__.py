"""Agent and tool responses -> result rows: the output mappers (docs/runtime.md)."""
