"""embedrec.engine.runtime."""
