"""The embedded Celery broker: kombu's filesystem transport, with every message written whole before any
worker can see it, and taken by exactly one worker.

kombu's own transport writes a message file in place, so a worker polling the folder can take it empty or
half written (the message is then lost to a JSONDecodeError); and it takes a message by moving it to the
system's temporary folder, which is a copy when that folder is on another file system (two workers can
then both take it). Here a message is written in a staging folder and renamed into the queue, and a worker
takes one by renaming it into a folder beside the queue: a rename on one file system is atomic, so a
message appears whole and only one worker's rename can succeed.
"""

import logging
import os
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic
from typing import Any

from kombu.transport import filesystem
from kombu.utils.json import dumps, loads

log = logging.getLogger(__name__)


class Channel(filesystem.Channel):
    def _beside_queue(self, name: str) -> str:
        folder = Path(self.data_folder_out).parent / name
        folder.mkdir(parents=True, exist_ok=True)
        return str(folder)

    def _put(self, queue: str, message: Any, **kwargs: Any) -> None:  # type: ignore[override]  # fanout passes kwargs
        """Put `message` on `queue`: written in the staging folder, then renamed into the queue whole."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        staged = os.path.join(self._beside_queue("staging"), name)
        with open(staged, "wb") as f:
            f.write(dumps(message).encode())
        os.replace(staged, os.path.join(self.data_folder_out, name))

    def _get(self, queue: str, timeout: float | None = None) -> Any:
        """The oldest message of `queue`, taken by renaming it out of the queue (one worker's rename wins)."""
        wanted = f"{queue}.msg"
        taken_folder = self._beside_queue("taken")
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != wanted:
                continue
            taken = os.path.join(taken_folder, f"{uuid.uuid4().hex}-{name}")
            try:
                os.rename(os.path.join(self.data_folder_in, name), taken)
            except FileNotFoundError:
                continue  # another worker took it first
            try:
                with open(taken, "rb") as f:
                    payload = f.read()
            finally:
                os.remove(taken)
            try:
                message = loads(payload.decode())
            except ValueError:
                log.error("dropped an unreadable message %s from the queue %s", name, queue)
                continue
            return message
        raise Empty()


class Transport(filesystem.Transport):
    Channel = Channel
