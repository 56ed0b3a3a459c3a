"""`python -m factory` is the same as the `schema-factory` console script."""

from factory.cli import main

if __name__ == "__main__":
    main()
