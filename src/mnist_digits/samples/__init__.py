"""People's own digits: corrections sent from the page and samples drawn in collect mode,
kept in one SQLite file under the data home, and exported as an MNIST of their own.

- ``store``: ``SampleStore`` (stdlib ``sqlite3``, WAL, one connection per operation, one
  transaction per write: safe with several server processes and across ``kill -9``);
  ``labelled()`` gives the samples as MNIST-style arrays.
- ``export``: the samples as gzipped MNIST IDX files with ``SHA256SUMS`` and ``manifest.json``,
  split so that no writer is in both train and test, each file written atomically.

May import: ``core`` and ``data`` (the data home, the IDX writer); numpy and Pillow. Torch-free:
``web`` uses it, and the ``samples`` command runs on a serving-only install.
"""
