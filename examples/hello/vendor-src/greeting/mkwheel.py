"""Build vendor/greeting-1.0-py3-none-any.whl reproducibly from this directory."""

import base64
import hashlib
import os
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "vendor", "greeting-1.0-py3-none-any.whl")
DIST = "greeting-1.0.dist-info"
FILES = {
    "greeting/__init__.py": open(os.path.join(HERE, "greeting", "__init__.py"), "rb").read(),
    f"{DIST}/METADATA": b"Metadata-Version: 2.1\nName: greeting\nVersion: 1.0\nSummary: A tiny library the hello example depends on\nLicense: MIT\n",
    f"{DIST}/WHEEL": b"Wheel-Version: 1.0\nGenerator: mkwheel.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    f"{DIST}/top_level.txt": b"greeting\n",
}


def record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}\n"


def main():
    record = "".join(record_line(n, d) for n, d in FILES.items()) + f"{DIST}/RECORD,,\n"
    entries = list(FILES.items()) + [(f"{DIST}/RECORD", record.encode())]
    with zipfile.ZipFile(OUT, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    print(OUT)


if __name__ == "__main__":
    main()
