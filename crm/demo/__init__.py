"""Demo data (`crmhub demo-data`): `generate` builds a realistic company of any size.

`build` runs the chunks; `words`, `identifiers`, `reference`, `rows` and `writers` are its
parts (see `crm.demo.build`)."""

from crm.demo.build import generate

__all__ = ["generate"]
