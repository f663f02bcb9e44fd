"""How Python cryptography reads and verifies certificates pgssl made.

Reads a JSON array of checks on stdin ({"cert", "root", "usage", "hosts"}),
prints a JSON array of reports with the same fields as x509check/main.go; the
tests decide. Uses x509.load_pem_x509_certificate, and cryptography's verifier
(cryptography.x509.verification, 42+) where this version has it; Debian 12's
38.x has none, so there the issuer's signature is checked directly.

cryptography's client verifier demands a subjectAltName, which a PostgreSQL
client certificate (CN = the role) has no use for, and has no policy for a CA
on its own: client and CA certificates ("usage": "client" or "ca") are
therefore checked by signature, as with 38.x.

    /usr/bin/python3 x509check.py < checks.json
"""
import datetime
import ipaddress
import json
import sys

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

try:
    from cryptography.x509 import verification
except ImportError:
    verification = None


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    return x509.load_pem_x509_certificate(data)


def ext(cert, kind):
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def check_signature(cert, root):
    key = root.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    else:
        raise ValueError("unsupported issuer key")




def main():
    print(json.dumps([run(check) for check in json.load(sys.stdin)]))


def run(check):
    cert_path, root_path, usage_kind, hosts = check["cert"], check.get("root"), check.get("usage", "server"), check.get("hosts", [])
    report = {"parseError": None}
    try:
        cert = load(cert_path)
        # Touch every extension: a malformed one raises here, as it would in an application.
        extensions = list(cert.extensions)
        subject = [{"oid": a.oid.dotted_string, "tag": a._type.value, "hex": a.value.encode("utf-8").hex()} for a in cert.subject]
    except Exception as error:  # noqa: BLE001 - the report says what failed
        report["parseError"] = f"{type(error).__name__}: {error}"
        return report
    basic = ext(cert, x509.BasicConstraints)
    usage = ext(cert, x509.KeyUsage)
    eku = ext(cert, x509.ExtendedKeyUsage)
    san = ext(cert, x509.SubjectAlternativeName)
    names = {ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth", ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth"}
    key_usage = []
    if usage is not None:
        for name in ["digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign"]:
            if getattr(usage, name):
                key_usage.append({"digital_signature": "digitalSignature", "content_commitment": "contentCommitment", "key_encipherment": "keyEncipherment", "data_encipherment": "dataEncipherment", "key_agreement": "keyAgreement", "key_cert_sign": "keyCertSign", "crl_sign": "cRLSign"}[name])
    report.update({
        "extensionCount": len(extensions),
        "subject": subject,
        "dnsNames": san.get_values_for_type(x509.DNSName) if san else [],
        "ipAddresses": [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] if san else [],
        "keyUsage": key_usage,
        "extKeyUsage": [names.get(oid, oid.dotted_string) for oid in eku] if eku else [],
        "basicConstraintsValid": basic is not None,
        "isCA": bool(basic and basic.ca),
        "signatureAlgorithm": cert.signature_algorithm_oid._name,
        "verifier": verification is not None,
        "chainError": None,
        "hostErrors": {},
    })
    if root_path:
        root = load(root_path)
        report["issuerMatchesRoot"] = cert.issuer.public_bytes() == root.subject.public_bytes()
        if verification is None or usage_kind in ("client", "ca"):
            try:
                check_signature(cert, root)
            except Exception as error:  # noqa: BLE001
                report["chainError"] = f"signature: {type(error).__name__}: {error}"
        else:
            builder = verification.PolicyBuilder().store(verification.Store([root])).time(datetime.datetime.now(datetime.timezone.utc))
            try:
                # A server verifier needs a name: the first host asked for, or the certificate's first DNS name.
                first = (hosts or report["dnsNames"] or ["localhost"])[0]
                builder.build_server_verifier(subject_name(first)).verify(cert, [])
            except Exception as error:  # noqa: BLE001
                report["chainError"] = f"{type(error).__name__}: {error}"
            for host in hosts:
                try:
                    builder.build_server_verifier(subject_name(host)).verify(cert, [])
                    report["hostErrors"][host] = None
                except Exception as error:  # noqa: BLE001
                    report["hostErrors"][host] = f"{type(error).__name__}: {error}"
    return report


def subject_name(host):
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


if __name__ == "__main__":
    sys.exit(main())
