"""hello: the smallest wharf example, a WSGI app on the standard library."""

import json
import os

from greeting import greet


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/health":
        body, ctype = json.dumps({"status": "ok"}).encode(), "application/json"
    elif path == "/":
        name = os.environ.get("HELLO_NAME", "world")
        body, ctype = (greet(name) + "\n").encode(), "text/plain; charset=utf-8"
    else:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]
    start_response("200 OK", [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [body]
