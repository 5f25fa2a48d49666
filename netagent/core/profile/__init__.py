"""Profile text -> Profile: the YAML subset composer and the validating parser (pure)."""
