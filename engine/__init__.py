"""embedrec engine package."""
