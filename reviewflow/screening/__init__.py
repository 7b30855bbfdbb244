"""reviewflow.screening"""
