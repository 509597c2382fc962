"""A real, private Dovecot IMAP server on a free loopback port for the report-mailbox tests.

Each instance lives in its own temporary directory: its own configuration, passwd-file users, maildirs
and sockets, so it never touches the system's Dovecot (which stays stopped) and several test processes
can run side by side. Dovecot runs in the foreground as our child and is stopped with SIGTERM.

``tls=True`` also makes a self-signed certificate for 127.0.0.1: the server then offers STARTTLS on the
plain port and implicit TLS on a second port (``tls_port``); ``ca_file`` is what a client must trust.
Users log in with their password through PLAIN or with the same string as an OAuth2 bearer token
through XOAUTH2 (Dovecot 2.3 checks the token against the passdb like a password).
"""

import datetime
import grp
import ipaddress
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient

DOVECOT = "/usr/sbin/dovecot"
START_TIMEOUT_SECONDS = 10


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ensure_dovecot_installed() -> None:
    """Install Debian's dovecot-imapd when it is missing and we may; otherwise skip the test class.

    ``scripts/test.sh`` installs it beforehand; this covers a developer running pytest directly as root.
    """
    if Path(DOVECOT).exists():
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-q", "dovecot-imapd"], check=False, env=environment)
    if not Path(DOVECOT).exists():
        raise unittest.SkipTest("dovecot-imapd がありません（root で apt-get install -y dovecot-imapd）。")


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key (the certificate is its own CA)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mamori test IMAP")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


@dataclass(frozen=True)
class StoredMail:
    uid: int
    flags: tuple[str, ...]
    raw: bytes


class Dovecot:
    def __init__(self, *, tls: bool = False):
        self.tls = tls
        self.host = "127.0.0.1"
        self.port = free_port()
        self.tls_port = free_port() if tls else None
        self.ca_file: Path | None = None
        self.process: subprocess.Popen | None = None
        self.users: dict[str, str] = {}

    # --- Lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> "Dovecot":
        ensure_dovecot_installed()
        # Short: Dovecot's unix sockets live below it, and their paths may not exceed 108 bytes.
        self.directory = Path(tempfile.mkdtemp(prefix="mamori-dovecot-"))
        self.directory.chmod(0o755)
        self.mail_owner = self._mail_owner()
        for name in ("run", "state", "mail", "users"):
            (self.directory / name).mkdir()
        os.chown(self.directory / "mail", self.mail_owner.pw_uid, self.mail_owner.pw_gid)
        if self.tls:
            self.ca_file, _key_file = self_signed_certificate(self.directory)
        self.config_file.write_text(self._config())
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.config_file)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self._wait_until_ready()
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            if self.process.stderr is not None:
                self.process.stderr.close()
            self.process = None
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> "Dovecot":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def config_file(self) -> Path:
        return self.directory / "dovecot.conf"

    @property
    def log(self) -> str:
        log_file = self.directory / "dovecot.log"
        return log_file.read_text(errors="replace") if log_file.exists() else ""

    def _mail_owner(self) -> pwd.struct_passwd:
        """Whose maildirs: Dovecot refuses mail access as root, so root lends them to the ``dovecot`` user."""
        if os.geteuid() == 0:
            return pwd.getpwnam("dovecot")
        return pwd.getpwuid(os.geteuid())

    def _config(self) -> str:
        root = self.directory
        owner = self.mail_owner
        # Run as root: Dovecot's own unprivileged users. Run as someone else: everything as that user,
        # and no chroot for the login processes (only root may chroot).
        if os.geteuid() == 0:
            privileges = "default_login_user = dovenull\ndefault_internal_user = dovecot\n"
        else:
            group = grp.getgrgid(owner.pw_gid).gr_name
            privileges = (
                f"default_login_user = {owner.pw_name}\ndefault_internal_user = {owner.pw_name}\n"
                f"default_internal_group = {group}\n"
                "service imap-login {\n  chroot =\n}\nservice anvil {\n  chroot =\n}\n"
            )
        if self.tls:
            tls = (
                f"ssl = yes\nssl_cert = <{root / 'cert.pem'}\nssl_key = <{root / 'key.pem'}\n"
                f"service imap-login {{\n  inet_listener imaps {{\n    address = 127.0.0.1\n"
                f"    port = {self.tls_port}\n    ssl = yes\n  }}\n}}\n"
            )
        else:
            tls = "ssl = no\nservice imap-login {\n  inet_listener imaps {\n    port = 0\n  }\n}\n"
        return (
            f"base_dir = {root / 'run'}\n"
            f"state_dir = {root / 'state'}\n"
            f"log_path = {root / 'dovecot.log'}\n"
            "protocols = imap\n"
            "listen = 127.0.0.1\n"
            "disable_plaintext_auth = no\n"
            "auth_mechanisms = plain login xoauth2\n"
            "auth_failure_delay = 0\n"
            # No growing delay for an address after failed logins: the tests fail some on purpose.
            "service anvil {\n  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n}\n"
            f"first_valid_uid = {owner.pw_uid}\n"
            f"{privileges}"
            "passdb {\n  driver = passwd-file\n"
            f"  args = scheme=PLAIN username_format=%u {root / 'users'}/%u\n}}\n"
            "userdb {\n  driver = static\n"
            f"  args = uid={owner.pw_uid} gid={owner.pw_gid} home={root / 'mail'}/%u\n}}\n"
            f"mail_location = maildir:{root / 'mail'}/%u\n"
            "service imap-login {\n  inet_listener imap {\n    address = 127.0.0.1\n"
            f"    port = {self.port}\n  }}\n}}\n"
            f"{tls}"
        )

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                errors = self.process.stderr.read().decode(errors="replace")
                raise RuntimeError(f"dovecot exited with {self.process.returncode}: {errors}{self.log}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as connection:
                    if connection.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not answer on port {self.port} within {START_TIMEOUT_SECONDS} s")

    # --- Users and mail ------------------------------------------------------------------------------------

    def add_user(self, address: str, password: str) -> None:
        """A new user; each has a passwd-file of their own, which Dovecot reads at the user's first login.

        (One shared file rewritten while Dovecot runs is not re-read reliably within the same second.)
        """
        if address in self.users:
            raise ValueError(f"{address} exists already: add a new user instead of changing a password")
        self.users[address] = password
        (self.directory / "users" / address).write_text(f"{address}:{{PLAIN}}{password}\n")

    def client(self, user: str) -> IMAPClient:
        """A logged-in plain-port client for arranging and inspecting a test's mailbox."""
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(user, self.users[user])
        return client

    def append(self, user: str, raws: list[bytes], folder: str = "INBOX", flags: tuple[str, ...] = ()) -> None:
        client = self.client(user)
        try:
            for raw in raws:
                client.append(folder, raw, flags=flags)
        finally:
            client.logout()

    def messages(self, user: str, folder: str = "INBOX") -> list[StoredMail]:
        """Every message of ``folder`` (empty when the folder does not exist), in UID order."""
        client = self.client(user)
        try:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            fetched = client.fetch(uids, ["FLAGS", "BODY.PEEK[]"]) if uids else {}
            return [
                StoredMail(
                    uid=uid,
                    flags=tuple(flag.decode() if isinstance(flag, bytes) else flag for flag in data[b"FLAGS"]),
                    raw=data[b"BODY[]"],
                )
                for uid, data in sorted(fetched.items())
            ]
        finally:
            client.logout()
