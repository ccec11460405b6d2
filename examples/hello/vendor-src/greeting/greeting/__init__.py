"""greeting: a tiny library the hello example depends on."""

__version__ = "1.0"


def greet(name):
    return f"Hello, {name}!"
