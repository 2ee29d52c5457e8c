"""embedrec serving package."""
