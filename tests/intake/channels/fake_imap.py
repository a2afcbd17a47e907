"""A small IMAP4rev1 server on loopback: just what the poller uses (LOGIN, SELECT, UID SEARCH,
UID FETCH BODY.PEEK[], UID STORE +FLAGS, CLOSE, LOGOUT), over one in-memory mailbox."""

from __future__ import annotations

import re
import socketserver
import threading
from dataclasses import dataclass, field
from types import TracebackType


@dataclass
class StoredMail:
    uid: int
    raw: bytes
    flags: set[str] = field(default_factory=set)


class Mailbox:
    def __init__(self) -> None:
        self.mails: list[StoredMail] = []
        self.lock = threading.Lock()
        self.commands: list[str] = []

    def add(self, raw: bytes) -> int:
        with self.lock:
            uid = len(self.mails) + 1
            self.mails.append(StoredMail(uid, raw))
            return uid

    def flags(self, uid: int) -> set[str]:
        return set(self.mails[uid - 1].flags)


_COMMAND = re.compile(rb"^(\S+) (.*?)\r?\n?$", re.S)


class _Handler(socketserver.StreamRequestHandler):
    server: FakeImapServer

    def _send(self, line: bytes) -> None:
        self.wfile.write(line + b"\r\n")

    def handle(self) -> None:
        box = self.server.mailbox
        self._send(b"* OK fake IMAP4rev1 ready")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            match = _COMMAND.match(line)
            if match is None:
                self._send(b"* BAD what")
                continue
            tag, rest = match.group(1), match.group(2).decode()
            words = rest.split(" ")
            name = words[0].upper()
            box.commands.append(rest)
            if name == "CAPABILITY":
                self._send(b"* CAPABILITY IMAP4rev1")
            elif name == "LOGIN":
                if [w.strip('"') for w in words[1:]] != [self.server.user, self.server.password]:
                    self._send(tag + b" NO wrong credentials")
                    continue
            elif name == "SELECT":
                self._send(f"* {len(box.mails)} EXISTS".encode())
            elif name == "UID":
                self._uid(words[1:], tag)
                continue
            elif name == "LOGOUT":
                self._send(b"* BYE")
                self._send(tag + b" OK bye")
                return
            self._send(tag + b" OK done")

    def _uid(self, words: list[str], tag: bytes) -> None:
        box = self.server.mailbox
        command = words[0].upper()
        if command == "SEARCH":
            wanted = [m.uid for m in box.mails
                      if "\\Seen" not in m.flags and "\\Flagged" not in m.flags]
            self._send(b"* SEARCH " + " ".join(map(str, wanted)).encode())
        elif command == "FETCH":
            mail = box.mails[int(words[1]) - 1]
            self.wfile.write(f"* {mail.uid} FETCH (UID {mail.uid} BODY[] "
                             f"{{{len(mail.raw)}}}\r\n".encode() + mail.raw + b")\r\n")
        elif command == "STORE":
            mail = box.mails[int(words[1]) - 1]
            flags = " ".join(words[3:]).strip("()").split()
            mail.flags.update(flags)
            self._send(f"* {mail.uid} FETCH (UID {mail.uid} FLAGS ({' '.join(mail.flags)}))"
                       .encode())
        self._send(tag + b" OK done")


class FakeImapServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *, user: str = "kf", password: str = "pw") -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.user, self.password = user, password
        self.mailbox = Mailbox()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def __enter__(self) -> FakeImapServer:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(10)
