"""Chains the notebooks import, as an application would keep them: in plain modules."""
