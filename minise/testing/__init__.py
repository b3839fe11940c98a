"""Tools for testing minise: hypothesis strategies and a strict CuPy stand-in."""
