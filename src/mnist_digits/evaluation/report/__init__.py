"""The visual report of one or several runs: one self-contained HTML file and a Markdown twin.

The HTML file stands alone: every plot is a PNG embedded as base64, the style sheet is inline,
and nothing is fetched, so it opens offline and can be mailed as one file. A Markdown twin
(``report.md`` with the PNGs in ``report_files/`` beside it) carries the same tables and plots.

For each run the report holds its config, the environment, the metrics tables and every plot
of ``evaluation.plots``; given several runs it first compares them side by side: one metrics
table, overlaid training curves, per-class and per-corruption accuracy together, and where
each run's confusion matrix differs from the first one's.

Modules, in the order a report is made: ``collect`` (evaluate a run, read its files),
``exhibits`` (the plots it shows, rendered with titles and captions), ``tables``, ``document``
(the report as blocks, rendered to HTML and Markdown) and ``publish`` (``write_report``).

May import: ``core``, ``data``, ``models``, ``training``, the rest of ``evaluation``.
"""
