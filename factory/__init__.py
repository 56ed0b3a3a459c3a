"""schema-factory: one canonical extraction schema in, every downstream artifact out."""

__version__ = "0.1.0"
