#!/bin/sh
exec /opt/hello/venv/bin/python -m hello "$@"
