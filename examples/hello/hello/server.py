"""Serve hello.app with the standard library's WSGI server (threads)."""

import os
import socketserver
from wsgiref.simple_server import WSGIServer, make_server

from hello import app


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


def main():
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    with make_server(host, port, app, server_class=ThreadingWSGIServer) as httpd:
        print(f"hello: serving on http://{host}:{port}", flush=True)
        httpd.serve_forever()


if __name__ == "__main__":
    main()
