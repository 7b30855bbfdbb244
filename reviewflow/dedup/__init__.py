"""reviewflow.dedup"""
