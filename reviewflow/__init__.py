"""reviewflow: a systematic review from a PubMed search to pooled results."""

__version__ = "0.1.0"
