"""NCBI E-utilities plumbing for the PubMed client: HTTP transport seam and recordings
(``transport``), politeness (``polite``: rate limit, back-off) and reply parsing
(``responses``). The client itself is :mod:`reviewflow.acquire.pubmed`."""
