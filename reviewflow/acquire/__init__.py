"""Acquisition: the PubMed search client, file readers, and storing what they find."""
