from tests.extraction.conftest import Review, review  # noqa: F401  (the screened review)
