"""An HTTPS proxy that answers AWS host names locally and refuses every other destination.

Programs that ignore ``AWS_ENDPOINT_URL`` (the SageMaker SDK's regional STS client, its telemetry GET to an S3
host; git pushing to a connection's git-http URL) still honour ``HTTPS_PROXY``. For ``CONNECT host:443``
to an ``amazonaws.com`` host the proxy accepts the tunnel, presents a certificate for that host signed by its
own certificate authority (generated per stand-in; clients trust it through ``AWS_CA_BUNDLE`` and
``GIT_SSL_CAINFO``), and pipes the decrypted bytes to the stand-in's plain HTTP port, Host header unchanged.
Any other host gets ``403``: nothing leaves the machine.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import select
import socket
import socketserver
import ssl
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

log = logging.getLogger(__name__)
AWS_SUFFIXES = (".amazonaws.com", ".api.aws", ".amazonaws.com.cn")


def is_aws_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host.endswith(suffix) or host == suffix[1:] for suffix in AWS_SUFFIXES)


class CertificateAuthority:
    """A throw-away CA (EC P-256) in ``folder``; issues one leaf certificate per host name, cached."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.cert_path = self.folder / "ca.pem"
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._leaf_key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "AWS stand-in local CA")])
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        self.cert_path.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
        self._leaf_key_path = self.folder / "leaf-key.pem"
        self._leaf_key_path.write_bytes(
            self._leaf_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()

    def context_for(self, host: str) -> ssl.SSLContext:
        """A server-side TLS context presenting a certificate for ``host``."""
        host = host.lower()
        with self._lock:
            if host in self._contexts:
                return self._contexts[host]
            now = datetime.datetime.now(datetime.UTC)
            try:
                san: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
            except ValueError:
                san = x509.DNSName(host)
            cert = (
                x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host[:64])]))
                .issuer_name(self._cert.subject)
                .public_key(self._leaf_key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=29))
                .add_extension(x509.SubjectAlternativeName([san]), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(
                    x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
                )
                .add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False
                )
                .sign(self._key, hashes.SHA256())
            )
            safe = "".join(c if c.isalnum() or c in ".-" else "_" for c in host)
            chain = self.folder / f"{safe}.pem"
            pem = serialization.Encoding.PEM
            chain.write_bytes(cert.public_bytes(pem) + self._cert.public_bytes(pem))
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(chain), str(self._leaf_key_path))
            self._contexts[host] = context
            return context


class _Handler(socketserver.StreamRequestHandler):
    server: ProxyServer

    def handle(self) -> None:
        line = self.rfile.readline(65537).decode("latin-1")
        parts = line.split()
        if len(parts) != 3:
            return
        method, target, _version = parts
        header_lines = []
        while True:
            header = self.rfile.readline(65537)
            if header in (b"\r\n", b"\n", b""):
                break
            header_lines.append(header)
        if method.upper() == "CONNECT":
            host, _, port = target.rpartition(":")
            host = host.strip("[]")
            if not is_aws_host(host) or port not in ("443", ""):
                self._refuse(host)
                return
            self.wfile.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            self.wfile.flush()
            try:
                tls = self.server.authority.context_for(host).wrap_socket(self.connection, server_side=True)
            except (ssl.SSLError, OSError) as error:
                log.debug("TLS handshake for %s failed: %s", host, error)
                return
            self._pipe(tls, b"")
            return
        # A plain-HTTP request in absolute form: http://host/path.
        host = target.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        if not target.startswith("http://") or not is_aws_host(host):
            self._refuse(host)
            return
        self._pipe(self.connection, line.encode("latin-1") + b"".join(header_lines) + b"\r\n")

    def _refuse(self, host: str) -> None:
        body = (
            f"The AWS stand-in's proxy answers only AWS host names; {host or 'this destination'} is refused "
            "so that nothing leaves the machine.\n"
        ).encode()
        self.wfile.write(
            b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        self.wfile.flush()

    def _pipe(self, client: socket.socket, first: bytes) -> None:
        upstream = socket.create_connection(self.server.upstream, timeout=600)
        try:
            if first:
                upstream.sendall(first)
            sockets = [client, upstream]
            while True:
                pending = client.pending() if isinstance(client, ssl.SSLSocket) else 0
                readable = [client] if pending else select.select(sockets, [], [], 600)[0]
                if not readable:
                    return
                for sock in readable:
                    try:
                        data = sock.recv(65536)
                    except ssl.SSLWantReadError:
                        continue
                    if not data:
                        return
                    (upstream if sock is client else client).sendall(data)
        except (OSError, ssl.SSLError) as error:
            log.debug("proxy pipe closed: %s", error)
        finally:
            upstream.close()


class ProxyServer(socketserver.ThreadingTCPServer):
    """The proxy: ``ProxyServer(upstream=("127.0.0.1", port), authority=CertificateAuthority(folder))``."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, upstream: tuple[str, int], authority: CertificateAuthority, port: int = 0) -> None:
        self.upstream = upstream
        self.authority = authority
        super().__init__(("127.0.0.1", port), _Handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> ProxyServer:
        self._thread = threading.Thread(target=self.serve_forever, name="standin-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
