"""How large an input any reader of images accepts: files and uploads, and decoded pixels.

The image decoder enforces both; the web app's upload limit defaults to the same byte count.
"""

# 10 MiB: a 12-megapixel phone JPEG is 3-6 MB; nothing a digit needs comes near it.
MAX_BYTES = 10 * 1024 * 1024
# Checked from the header before decoding: a decompression bomb is refused for free.
MAX_PIXELS = 40_000_000
