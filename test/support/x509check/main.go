// x509check: how Go's crypto/x509 (standard library only) reads and verifies
// certificates pgssl made. Reads a JSON array of checks on stdin
// ([{"cert": "leaf.crt", "root": "ca.crt", "usage": "server", "hosts": ["db1"]}],
// usage: server, client or ca),
// prints a JSON array of reports; the tests decide. One process for many
// checks: `go run` compiles and links each time.
//
//	go run . < checks.json
package main

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
)

type check struct {
	Cert  string   `json:"cert"`
	Root  string   `json:"root"`
	Usage string   `json:"usage"`
	Hosts []string `json:"hosts"`
}

type nameValue struct {
	OID string `json:"oid"`
	Tag int    `json:"tag"` // 19 PrintableString, 12 UTF8String
	Hex string `json:"hex"` // the content octets
}

type report struct {
	ParseError         *string            `json:"parseError"`
	Subject            []nameValue        `json:"subject"`
	IssuerMatchesRoot  bool               `json:"issuerMatchesRoot"`
	DNSNames           []string           `json:"dnsNames"`
	IPAddresses        []string           `json:"ipAddresses"`
	KeyUsage           []string           `json:"keyUsage"`
	ExtKeyUsage        []string           `json:"extKeyUsage"`
	BasicConstraints   bool               `json:"basicConstraintsValid"`
	IsCA               bool               `json:"isCA"`
	SignatureAlgorithm string             `json:"signatureAlgorithm"`
	PublicKeyAlgorithm string             `json:"publicKeyAlgorithm"`
	ChainError         *string            `json:"chainError"`
	HostErrors         map[string]*string `json:"hostErrors"`
}

func read(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		fail(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		fail(fmt.Errorf("%s: no PEM block", path))
	}
	return x509.ParseCertificate(block.Bytes)
}

func main() {
	var checks []check
	if err := json.NewDecoder(os.Stdin).Decode(&checks); err != nil {
		fail(err)
	}
	reports := []report{}
	for _, c := range checks {
		reports = append(reports, run(c))
	}
	out, _ := json.Marshal(reports)
	fmt.Println(string(out))
}

func run(c check) report {
	cert, err := read(c.Cert)
	if err != nil {
		return report{ParseError: str(err.Error())}
	}
	r := report{
		DNSNames: append([]string{}, cert.DNSNames...), BasicConstraints: cert.BasicConstraintsValid, IsCA: cert.IsCA,
		SignatureAlgorithm: cert.SignatureAlgorithm.String(), PublicKeyAlgorithm: cert.PublicKeyAlgorithm.String(),
		HostErrors: map[string]*string{}, KeyUsage: []string{}, ExtKeyUsage: []string{}, IPAddresses: []string{},
	}
	var rdns []asn1.RawValue // Name ::= SEQUENCE OF RDN; RDN ::= SET OF AttributeTypeAndValue
	if _, err := asn1.Unmarshal(cert.RawSubject, &rdns); err != nil {
		fail(err)
	}
	for _, set := range rdns {
		rest := set.Bytes
		for len(rest) > 0 {
			var atv struct {
				Type  asn1.ObjectIdentifier
				Value asn1.RawValue
			}
			var err error
			if rest, err = asn1.Unmarshal(rest, &atv); err != nil {
				fail(err)
			}
			r.Subject = append(r.Subject, nameValue{atv.Type.String(), atv.Value.Tag, hex.EncodeToString(atv.Value.Bytes)})
		}
	}
	for _, ip := range cert.IPAddresses {
		r.IPAddresses = append(r.IPAddresses, ip.String())
	}
	for bit, name := range []string{"digitalSignature", "contentCommitment", "keyEncipherment", "dataEncipherment", "keyAgreement", "keyCertSign", "cRLSign"} {
		if cert.KeyUsage&(1<<bit) != 0 {
			r.KeyUsage = append(r.KeyUsage, name)
		}
	}
	for _, eku := range cert.ExtKeyUsage {
		switch eku {
		case x509.ExtKeyUsageServerAuth:
			r.ExtKeyUsage = append(r.ExtKeyUsage, "serverAuth")
		case x509.ExtKeyUsageClientAuth:
			r.ExtKeyUsage = append(r.ExtKeyUsage, "clientAuth")
		default:
			r.ExtKeyUsage = append(r.ExtKeyUsage, fmt.Sprint(eku))
		}
	}
	if c.Root != "" {
		root, err := read(c.Root)
		if err != nil {
			fail(fmt.Errorf("root %s: %v", c.Root, err))
		}
		r.IssuerMatchesRoot = string(cert.RawIssuer) == string(root.RawSubject)
		pool := x509.NewCertPool()
		pool.AddCert(root)
		want := x509.ExtKeyUsageServerAuth
		switch c.Usage {
		case "client":
			want = x509.ExtKeyUsageClientAuth
		case "ca":
			want = x509.ExtKeyUsageAny
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{want}}); err != nil {
			r.ChainError = str(err.Error())
		}
		for _, name := range c.Hosts {
			// Verify with DNSName checks the chain and the name together, as a Go client (pgx, lib/pq) does.
			if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: name, KeyUsages: []x509.ExtKeyUsage{want}}); err != nil {
				r.HostErrors[name] = str(err.Error())
			} else {
				r.HostErrors[name] = nil
			}
		}
	}
	return r
}

func str(s string) *string { return &s }

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(2)
}
