"""embedrec.serving.routes."""
