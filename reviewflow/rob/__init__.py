"""Risk of bias: assessment tools as forms (tools.py), the reviewers' assessments (assess.py)."""
