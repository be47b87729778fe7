"""People's images to MNIST's 28x28: decoding, finding the ink, rendering it as MNIST did,
and splitting a written number into digits.

Every entry point shares one path, one module per step (each imports only the ones before it):

- ``decode``: ``load_image`` reads a path, bytes, a PIL image or an array safely (byte and
  pixel limits checked before decoding, first frame, EXIF orientation, one-line
  ``ImageError``s); ``standard_mode`` brings odd pixel modes to L/LA/RGB/RGBA/F.
- ``lines``: ``erase_rules`` sets the lines of ruled and squared paper to paper, except where
  strokes cross them.
- ``frames``: ``drop_frames`` finds the pieces of ink that frame a digit rather than form it
  (a box drawn round it, the page's edge against a table); ``ink`` unmarks them.
- ``page``: ``page_box`` finds the page in a photo that shows the desk all round it, which
  ``ink`` then reads alone.
- ``ink``: ``extract`` decides the polarity, flattens uneven paper, erases ruling, thresholds
  with Otsu and marks specks (tiny connected components) and frames; a photo of a page on a
  desk is read on the page.
- ``render``: crops one digit, thickens thin strokes, scales the longer side to 20 px and
  centres the centre of mass at (14, 14) in 28x28 (``Preprocessed``); ``to_mnist`` renders
  all the ink of an image as one digit.
- ``segments``: candidate cuts of a group of touching digits, every stretch between two of
  them rendered like a digit, runs of neighbouring groups that may be one broken digit, and the
  dynamic programme that picks the best-scored chain (the scores come from a model, in
  ``predict``).
- ``numbers``: ``split_digits`` renders each digit of a written number, left to right.

Normalising the 28x28 pixels for a model is not done here: that is ``core.contract``'s job.

May import: ``core``; numpy, scipy and Pillow. Torch-free.
"""
