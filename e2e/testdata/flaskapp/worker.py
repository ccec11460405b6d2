"""A worker process: proves a second service runs, with its state directory."""

import os
import time

state = os.environ["STATE_DIRECTORY"]
while True:
    with open(os.path.join(state, "worker-heartbeat"), "w") as f:
        f.write(str(int(time.time())))
    time.sleep(2)
