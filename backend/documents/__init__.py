"""Provides the documents (issue 20): a content-addressed, sealed store, what a document is
(sniffed from its bytes) and who may read one back."""
