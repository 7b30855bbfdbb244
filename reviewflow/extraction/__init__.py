"""reviewflow.extraction"""
