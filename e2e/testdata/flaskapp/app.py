import os

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def index():
    return f"Hello from {os.environ.get('GREETING_NAME', 'flaskapp')}\n"


@app.get("/health")
def health():
    return jsonify(status="ok")
