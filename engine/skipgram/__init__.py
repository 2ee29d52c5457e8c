"""embedrec.engine.skipgram."""
