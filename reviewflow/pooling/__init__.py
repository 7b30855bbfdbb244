"""reviewflow.pooling"""
