"""Reading and splitting parallel corpora."""
