"""embedrec pipelines package."""
