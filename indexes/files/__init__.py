"""Vector files trained elsewhere — word2vec text and binary, GloVe, fastText ``.vec`` —
told apart by their content, read record by record with errors naming the line or offset.

>>> from embedrec.indexes import load_index
>>> load_index("glove.6B.100d.txt").most_similar(positive=["king"])   # doctest: +SKIP
"""
