#!/usr/bin/env python3
# tern interop harness: ExaBGP API helper.
# Appends every message ExaBGP sends (JSON, one per line) to RECEIVED_LOG, and forwards every
# complete line appended to COMMANDS_FILE to ExaBGP (stdout), e.g. "announce route ...".
import os
import sys
import threading
import time

received_log, commands_file = sys.argv[1], sys.argv[2]
open(received_log, "a").close()  # tells the driver we are running


def record():
    with open(received_log, "a") as log:
        for line in sys.stdin:
            log.write(line)
            log.flush()
    os._exit(0)


threading.Thread(target=record, daemon=True).start()

offset = 0
while True:
    try:
        with open(commands_file, "rb") as commands:
            commands.seek(offset)
            data = commands.read()
    except FileNotFoundError:
        data = b""
    end = data.rfind(b"\n")
    if end >= 0:
        offset += end + 1
        for line in data[: end + 1].decode().splitlines():
            if line.strip():
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
    time.sleep(0.05)
