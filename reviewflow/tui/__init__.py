"""reviewflow.tui"""
