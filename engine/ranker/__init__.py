"""embedrec.engine.ranker."""
