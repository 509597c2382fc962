"""A real SMTP server on a free loopback port for the sending tests (aiosmtpd in a thread).

It records every message it accepts (envelope, bytes, arrival time), can answer chosen recipients with
an error for a number of times (``refuse``), can require a login (``credentials``), advertises
PIPELINING unless told not to (``pipelining=False`` tests the plain path) and can hold the
reply to one message (``hold_reply_to``) so that a test can kill the sender while that mail is in flight.
"""

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    """A loopback port nobody listens on (aiosmtpd cannot bind port 0 and report it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    arrived: float  # time.monotonic()

    @property
    def message(self) -> EmailMessage:
        return BytesParser(policy=policy.default).parsebytes(self.content)


@dataclass
class Refusal:
    reply: str
    times: int | None  # None: always
    stage: str  # "rcpt" or "data"


@dataclass
class Recorder:
    """The aiosmtpd handler: what was received, and which replies to give instead of accepting."""

    received: list[ReceivedMail] = field(default_factory=list)
    refusals: dict[str, Refusal] = field(default_factory=dict)
    pipelining: bool = True  # advertise PIPELINING, as Postfix does (aiosmtpd reads pipelined commands in turn)
    hold_reply_to: int | None = None  # the n-th message (1-based) waits for ``release_hold``
    holding: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def refusal_for(self, address: str, stage: str) -> str | None:
        with self.lock:
            refusal = self.refusals.get(address.lower())
            if refusal is None or refusal.stage != stage:
                return None
            if refusal.times is not None:
                refusal.times -= 1
                if refusal.times <= 0:
                    del self.refusals[address.lower()]
            return refusal.reply

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.refusal_for(address, "rcpt")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = next(filter(None, (self.refusal_for(address, "data") for address in envelope.rcpt_tos)), None)
        if reply:
            return reply
        with self.lock:
            self.received.append(
                ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), envelope.content, time.monotonic())
            )
            number = len(self.received)
        if number == self.hold_reply_to:
            self.holding.set()
            await asyncio.to_thread(self.released.wait, 30)
        return "250 2.0.0 Ok: queued"


class SMTPTestServer:
    """Use as a context manager: ``with SMTPTestServer() as server: … server.port …``."""

    def __init__(self, *, credentials: tuple[str, str] | None = None, pipelining: bool = True):
        self.recorder = Recorder(pipelining=pipelining)
        self.port = free_port()
        options = {}
        if credentials:
            options = {"authenticator": self.authenticator(credentials), "auth_require_tls": False}
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port, **options)

    @staticmethod
    def authenticator(credentials: tuple[str, str]):
        def check(server, session, envelope, mechanism, auth_data):
            valid = (
                isinstance(auth_data, LoginPassword)
                and (
                    auth_data.login.decode(),
                    auth_data.password.decode(),
                )
                == credentials
            )
            return AuthResult(success=valid)

        return check

    def __enter__(self) -> "SMTPTestServer":
        self.controller.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.recorder.released.set()
        self.controller.stop()

    @property
    def received(self) -> list[ReceivedMail]:
        with self.recorder.lock:
            return list(self.recorder.received)

    def reset(self) -> None:
        """Forget what was received and every refusal (between tests sharing one server)."""
        with self.recorder.lock:
            self.recorder.received.clear()
            self.recorder.refusals.clear()

    def refuse(self, address: str, reply: str, *, times: int | None = None, stage: str = "rcpt") -> None:
        """Answer ``reply`` (e.g. "451 4.3.0 Try again later") for ``address``, ``times`` times or always."""
        with self.recorder.lock:
            self.recorder.refusals[address.lower()] = Refusal(reply, times, stage)

    def hold_reply_to(self, number: int) -> None:
        self.recorder.hold_reply_to = number

    def wait_until_holding(self, timeout: float) -> bool:
        return self.recorder.holding.wait(timeout)

    def release_hold(self) -> None:
        self.recorder.released.set()

    def recipients(self) -> list[str]:
        return [address for mail in self.received for address in mail.rcpt_tos]

    def wait_for(self, count: int, timeout: float) -> bool:
        """Wait until at least ``count`` messages have arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.received) >= count:
                return True
            time.sleep(0.01)
        return len(self.received) >= count
