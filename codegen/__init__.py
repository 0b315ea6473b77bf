"""The generator: ``schema/`` (YAML) -> ``okru_sdk/_generated/`` and ``docs/catalogue.md``.

Run it with ``make generate`` (``python -m codegen``). The modules:

- :mod:`codegen.catalogue` -- pydantic models of the catalogue and the loader;
- :mod:`codegen.types` -- the small type language of parameters and results;
- :mod:`codegen.naming` -- wire names to Python names;
- :mod:`codegen.render` -- models (datamodel-code-generator), groups and errors
  (Jinja2), docs, formatting;
- :mod:`codegen.__main__` -- the command line.
"""
