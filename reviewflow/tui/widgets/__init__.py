"""Reusable widgets of the screening and reconciliation apps (each carries its DEFAULT_CSS)."""
