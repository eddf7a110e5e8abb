"""Identity resolution: Splink scoring, guarded clustering and evaluation against ground truth."""
