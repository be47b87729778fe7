"""Draw a digit, see it read live: the web page and REST API (``mnist-digits serve``).

``mnist_digits.web.app.create_app(settings)`` builds the FastAPI app; the model is loaded
once, in its lifespan. ``web.site.build_site`` writes the same page as a static site that reads
digits in the browser (``static/ink.js``, ``static/frames.js``, ``static/preprocess.js``,
``static/local.js``), with no server.

May import: ``predict``, ``samples`` (corrections and collect mode), ``core`` and its own
modules only, so a serving install needs no PyTorch.
"""
