"""What every embedrec package shares: errors, artifact manifests, record schemas, CLI
plumbing and ranking metrics. Nothing here imports the four packages.

>>> from embedrec.core.errors import EmbedrecError
>>> issubclass(EmbedrecError, Exception)
True
"""
