"""Executed state machines: the synthesized definitions run in moto's Step Functions interpreter."""
