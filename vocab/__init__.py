"""The platform's shared vocabulary: taxonomy, enumerations and the Chinese analyzer.

Plain Python with no Flask or database imports, so that `market`, `search` and `matching` all speak
the same words.
"""
