"""reviewflow.report"""
