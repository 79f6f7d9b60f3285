"""Version orderings, one module per scheme, each a key function so sorting and range checks run on
Python's C tuple comparison.
"""
