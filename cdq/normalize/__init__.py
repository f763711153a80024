"""Normalization of Dutch customer fields, one module per field family."""
