"""One package per service. Services never import each other (checked by import-linter)."""
