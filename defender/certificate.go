package defender

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// parseCertificate reads a client certificate with its private key, as PEM
// (certificate(s) and an unencrypted PKCS#8 or PKCS#1 key, in any order) or
// as PKCS#12 (.pfx/.p12), told apart by content, not by file name. It
// returns the chain and the leaf, the certificate matching the key.
func parseCertificate(data []byte, password string) ([]*x509.Certificate, crypto.PrivateKey, *x509.Certificate, error) {
	var (
		certs []*x509.Certificate
		key   crypto.PrivateKey
		err   error
	)
	if isPEM(data) {
		certs, key, err = parsePEM(data)
	} else {
		certs, key, err = parsePKCS12(data, password)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	leaf := leafFor(certs, key)
	if leaf == nil {
		return nil, nil, nil, errors.New("no certificate matches the private key")
	}
	return certs, key, leaf, nil
}

func isPEM(data []byte) bool {
	return bytes.Contains(data, []byte("-----BEGIN "))
}

func parsePEM(data []byte) ([]*x509.Certificate, crypto.PrivateKey, error) {
	// MSAL skips blocks it does not know; name the common mistakes instead
	// of its "no private key found".
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch block.Type {
		case "ENCRYPTED PRIVATE KEY":
			return nil, nil, errors.New("PEM: encrypted private keys are not supported; use PKCS#12 (.pfx) with a password, or an unencrypted key protected by file permissions")
		case "EC PRIVATE KEY":
			return nil, nil, errors.New("PEM: Entra certificate credentials need an RSA key, found an EC key")
		}
	}
	certs, key, err := confidential.CertFromPEM(data, "")
	if err != nil {
		return nil, nil, fmt.Errorf("PEM: %w", err)
	}
	return certs, key, nil
}

// parsePKCS12 uses software.sslmate.com/src/go-pkcs12 rather than
// golang.org/x/crypto/pkcs12: the latter knows only the legacy 3DES/RC2
// encryption, while OpenSSL 3, current Windows and Key Vault exports use
// AES with PBKDF2 (PBES2); and its Decode drops the chain. DecodeChain
// handles both and keeps every certificate.
func parsePKCS12(data []byte, password string) ([]*x509.Certificate, crypto.PrivateKey, error) {
	key, cert, chain, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		if errors.Is(err, pkcs12.ErrIncorrectPassword) {
			return nil, nil, errors.New("PKCS#12: wrong certificate password, or not a PKCS#12 file")
		}
		return nil, nil, fmt.Errorf("PKCS#12: %w", err)
	}
	return append([]*x509.Certificate{cert}, chain...), key, nil
}

// leafFor returns the certificate whose public key belongs to key.
func leafFor(certs []*x509.Certificate, key crypto.PrivateKey) *x509.Certificate {
	for _, c := range certs {
		switch k := key.(type) {
		case *rsa.PrivateKey:
			if k.PublicKey.Equal(c.PublicKey) {
				return c
			}
		case *ecdsa.PrivateKey:
			if k.PublicKey.Equal(c.PublicKey) {
				return c
			}
		}
	}
	return nil
}
