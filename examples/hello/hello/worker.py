"""A background worker: writes a heartbeat into the service's state directory."""

import os
import time


def main():
    state = os.environ.get("STATE_DIRECTORY", "/tmp")
    beat = os.path.join(state, "heartbeat")
    while True:
        with open(beat, "w") as f:
            f.write(f"{int(time.time())}\n")
        time.sleep(5)


if __name__ == "__main__":
    main()
