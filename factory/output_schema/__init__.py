"""Agent output schemas: the `schemas/<agent>.yaml` files that describe how an agent's output maps to fields.

`loader` reads and checks them (Problems, every one at once); the conversion to
the generic mapper's compiled model lives in `factory.runtime.registered_output_schema`,
so the mapper Lambda can apply a registered schema itself.
"""
