"""Agent and tool responses -> result rows: the output mappers.

methods.py      the extraction method table (one row per method) and the compiled model
expressions.py  the `$.path | function()` language methods and transforms are written in
sources.py      where in one response a method reads (tool results, structured output, ...)
config.py       the `output_mappings` section, in either form, compiled through the table
registered.py   an agent's registered output schema as an output mapping
generic.py      runs a compiled mapping over a response (the generic output-mapper Lambda)
structured.py   finds the structured output of agents this factory made (the output-mapper Lambda)
"""
