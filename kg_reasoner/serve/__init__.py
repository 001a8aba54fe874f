"""Serving a cohort store over the SPARQL 1.1 Protocol (``endpoint``), read-only, each query in a process
without network (``forkserver`` preloads it).
"""
