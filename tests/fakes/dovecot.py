"""A real IMAP server for tests: Debian's Dovecot on 127.0.0.1, configured in a temp dir.

    with Dovecot() as server:            # or: server = Dovecot(); server.start(); server.stop()
        server.add_user("anna@example.com", "secret")
        server.deliver("anna@example.com", raw_bytes)   # like a local delivery agent
        config = MailboxConfig(..., imap_host=server.host, imap_port=server.port, imap_ssl=False)

Plain-text IMAP with cleartext logins (with `Dovecot(tls=TestCertificate...)` also STARTTLS
on that port and implicit TLS on `tls_port`), users in a passwd-file, one Maildir per user, log in
`<tmp>/dovecot.log`. Run as root, Dovecot's own `dovecot`/`dovenull` users own the mail and
the login processes (Dovecot refuses root for both); otherwise everything runs as the
current user. A missing `dovecot` binary fails the test (tests/system-deps.sh installs it).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType

import pytest

from tests.fakes.tls import TestCertificate

__all__ = ["Dovecot", "DovecotError", "start_dovecot"]

START_TIMEOUT = 10.0


class DovecotError(RuntimeError):
    """Dovecot is missing, would not start, or a doveadm command failed."""


def _binary(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if path is None:
        raise DovecotError(
            f"{name} is not installed: run tests/system-deps.sh "
            "(apt-get install --no-install-recommends dovecot-imapd)"
        )
    return path


def _version(dovecot: str) -> tuple[int, int]:
    output = subprocess.run(
        [dovecot, "--version"], capture_output=True, text=True, check=True, timeout=10
    ).stdout
    match = re.match(r"(\d+)\.(\d+)", output)
    if match is None:
        raise DovecotError(f"unexpected `dovecot --version` output: {output!r}")
    return int(match.group(1)), int(match.group(2))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _accounts() -> tuple[pwd.struct_passwd, str, str]:
    """(owner of the mail, internal user, login user) for the current process."""
    if os.getuid() != 0:
        me = pwd.getpwuid(os.getuid())
        return me, me.pw_name, me.pw_name
    try:
        return pwd.getpwnam("dovecot"), "dovecot", "dovenull"
    except KeyError as exc:
        raise DovecotError("running as root needs the `dovecot` and `dovenull` users") from exc


_CONFIG_23 = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = crmhub-test-{port}
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
default_internal_user = {internal_user}
default_login_user = {login_user}
first_valid_uid = {uid}
last_valid_uid = 0
mail_location = maildir:~/Maildir
mailbox_idle_check_interval = 1 secs
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users/%u
  default_fields = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


class Dovecot:
    """A Dovecot IMAP server of its own: start(), add_user(), deliver(), stop()."""

    host = "127.0.0.1"

    def __init__(self, tls: TestCertificate | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="crmhub-dovecot-"))
        self.port = 0
        self.tls = tls
        self.tls_port = 0  # implicit TLS (imaps), with `tls`; the plain port offers STARTTLS
        self.version = (0, 0)
        self._process: subprocess.Popen[bytes] | None = None
        self._owner, self._internal_user, self._login_user = _accounts()
        self._users: dict[str, str] = {}

    @property
    def config_path(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def log(self) -> str:
        """Dovecot's log so far, for assertion messages."""
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _write_config(self) -> None:
        if self.version >= (2, 4):
            raise DovecotError(
                f"Dovecot {self.version[0]}.{self.version[1]} uses a new config format "
                "(auth_allow_cleartext, passwd_file_path, mail_driver): not written yet"
            )
        self.config_path.write_text(
            _CONFIG_23.format(
                root=self.root,
                port=self.port,
                uid=self._owner.pw_uid,
                gid=self._owner.pw_gid,
                internal_user=self._internal_user,
                login_user=self._login_user,
                tls_port=self.tls_port,
                ssl=(
                    f"ssl = yes\nssl_cert = <{self.tls.cert_file}\nssl_key = <{self.tls.key_file}"
                    if self.tls
                    else "ssl = no"
                ),
            )
        )

    def _prepare_dirs(self) -> None:
        # Dovecot's unprivileged processes walk down to base_dir and the maildirs.
        self.root.chmod(0o755)
        for name in ("run", "state", "mail", "users"):
            (self.root / name).mkdir(mode=0o755, exist_ok=True)
        os.chown(self.root / "mail", self._owner.pw_uid, self._owner.pw_gid)

    def start(self) -> Dovecot:
        """Start `dovecot -F` and wait until it accepts connections."""
        dovecot = _binary("dovecot")
        self.version = _version(dovecot)
        self.port = _free_port()
        self.tls_port = _free_port() if self.tls else 0
        self._prepare_dirs()
        self._write_config()
        self._process = subprocess.Popen(
            [dovecot, "-F", "-c", str(self.config_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._wait_listening()
        return self

    def _wait_listening(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                stderr = self._process.stderr.read().decode() if self._process.stderr else ""
                self._process = None
                raise DovecotError(f"dovecot exited at start: {stderr}\n{self.log}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2) as probe:
                    if probe.recv(64).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise DovecotError(f"dovecot did not listen on {self.port} in time\n{self.log}")

    def stop(self) -> None:
        """Stop the server and delete its directory."""
        process, self._process = self._process, None
        if process is not None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stderr is not None:
                process.stderr.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Dovecot:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- users and mail ----------------------------------------------------------------------

    def add_user(self, address: str, password: str) -> None:
        """A mailbox that logs in with `address` / `password` (read on each login)."""
        if ":" in address + password or "\n" in address + password:
            raise ValueError("passwd-file entries cannot hold ':' or newlines")
        if "/" in address or address.startswith("."):
            raise ValueError(f"not a usable mailbox name: {address!r}")
        # One passwd-file per user: Dovecot re-reads a changed file at most once a second.
        (self.root / "users" / address).write_text(f"{address}:{{PLAIN}}{password}::::::\n")
        self._users[address] = password
        home = self.root / "mail" / address
        maildir = self.maildir(address)
        for path in (home, maildir, maildir / "cur", maildir / "new", maildir / "tmp"):
            path.mkdir(mode=0o700, exist_ok=True)
            os.chown(path, self._owner.pw_uid, self._owner.pw_gid)

    def maildir(self, address: str) -> Path:
        return self.root / "mail" / address / "Maildir"

    def deliver(self, address: str, raw: bytes) -> Path:
        """Drop a message into the user's Maildir/new, the way a delivery agent does
        (written in tmp/, then renamed)."""
        if address not in self._users:
            raise KeyError(f"no such user: {address}")
        name = f"{time.time_ns()}.M{uuid.uuid4().hex}P{os.getpid()}.crmhub-test,S={len(raw)}"
        temporary = self.maildir(address) / "tmp" / name
        temporary.write_bytes(raw)
        os.chown(temporary, self._owner.pw_uid, self._owner.pw_gid)
        final = self.maildir(address) / "new" / name
        temporary.rename(final)
        return final

    def doveadm(self, *args: str) -> str:
        """Run `doveadm` against this instance; DovecotError when it fails."""
        command = [_binary("doveadm"), "-c", str(self.config_path), *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=20)
        if result.returncode != 0:
            raise DovecotError(f"{' '.join(args)} failed: {result.stderr}{self.log}")
        return result.stdout

    def set_uidvalidity(self, address: str, uidvalidity: int, folder: str = "INBOX") -> None:
        """Change a folder's UIDVALIDITY, as when a server rebuilds its indexes."""
        self.doveadm("mailbox", "update", "-u", address, "--uid-validity", str(uidvalidity), folder)


def start_dovecot() -> Dovecot:
    """A started Dovecot for a fixture to yield and stop; fails the test (never skips it)
    when Dovecot is missing or will not start."""
    try:
        return Dovecot().start()
    except DovecotError as exc:
        pytest.fail(str(exc), pytrace=False)
