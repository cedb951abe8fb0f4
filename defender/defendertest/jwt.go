package defendertest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
)

// Just enough compact JWS to mint the fake's own tokens (ES256) and to verify
// the client assertions MSAL and other clients send (RS256, PS256). The fake
// carries its own tiny implementation instead of a JWT library so that it
// never shares a bug with the client it tests.

// maxJWTLen bounds what the fake will parse: real assertions are a few KB
// (an x5c chain makes them bigger), so anything past this is hostile input.
const maxJWTLen = 64 << 10

var b64 = base64.RawURLEncoding

type jwtHeader struct {
	Alg     string `json:"alg"`
	Typ     string `json:"typ,omitempty"`
	Kid     string `json:"kid,omitempty"`
	X5t     string `json:"x5t,omitempty"`
	X5tS256 string `json:"x5t#S256,omitempty"`
}

// jwtClaims holds every claim the fake reads or writes. Audience may be a
// string or an array on the wire (RFC 7519 §4.1.3), hence audience.
type jwtClaims struct {
	Iss   string   `json:"iss,omitempty"`
	Sub   string   `json:"sub,omitempty"`
	Aud   audience `json:"aud,omitempty"`
	Exp   float64  `json:"exp,omitempty"`
	Nbf   float64  `json:"nbf,omitempty"`
	Iat   float64  `json:"iat,omitempty"`
	Jti   string   `json:"jti,omitempty"`
	Tid   string   `json:"tid,omitempty"`
	AppID string   `json:"appid,omitempty"`
	Oid   string   `json:"oid,omitempty"`
	Idtyp string   `json:"idtyp,omitempty"`
	Ver   string   `json:"ver,omitempty"`
	Roles []string `json:"roles,omitempty"`
	// Uti carries the fake's issue serial, which is how ExpireTokens rejects
	// every token issued before it was called.
	Uti string `json:"uti,omitempty"`
}

type audience []string

func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("aud: want a string or an array of strings")
	}
	*a = many
	return nil
}

func (a audience) contains(want string) bool {
	for _, v := range a {
		if strings.EqualFold(v, want) {
			return true
		}
	}
	return false
}

type parsedJWT struct {
	header       jwtHeader
	claims       jwtClaims
	signingInput string
	sig          []byte
}

// parseJWT splits and decodes a compact JWS without checking its signature.
func parseJWT(s string) (*parsedJWT, error) {
	if len(s) > maxJWTLen {
		return nil, errors.New("token too large")
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a compact JWS (want three dot-separated parts)")
	}
	hb, err := b64.DecodeString(parts[0])
	if err != nil {
		return nil, errors.New("header is not base64url")
	}
	cb, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, errors.New("payload is not base64url")
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return nil, errors.New("signature is not base64url")
	}
	p := &parsedJWT{signingInput: parts[0] + "." + parts[1], sig: sig}
	if err := json.Unmarshal(hb, &p.header); err != nil {
		return nil, errors.New("header is not a JSON object")
	}
	if err := json.Unmarshal(cb, &p.claims); err != nil {
		return nil, errors.New("payload is not a JSON object of the expected claim types")
	}
	return p, nil
}

// signES256 mints a compact JWS with the fake's ECDSA P-256 key.
func signES256(key *ecdsa.PrivateKey, h jwtHeader, c jwtClaims) (string, error) {
	h.Alg = "ES256"
	hb, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	cb, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	input := b64.EncodeToString(hb) + "." + b64.EncodeToString(cb)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		return "", err
	}
	// JWS wants the fixed-width r||s form (RFC 7518 §3.4), not ASN.1.
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64.EncodeToString(sig), nil
}

func (p *parsedJWT) verifyES256(pub *ecdsa.PublicKey) bool {
	if p.header.Alg != "ES256" || len(p.sig) != 64 {
		return false
	}
	digest := sha256.Sum256([]byte(p.signingInput))
	r := new(big.Int).SetBytes(p.sig[:32])
	s := new(big.Int).SetBytes(p.sig[32:])
	return ecdsa.Verify(pub, digest[:], r, s)
}

// verifyRSA checks an RS256 or PS256 signature; Entra's current docs ask for
// PS256 (and MSAL sends it), older clients send RS256, Entra takes both.
func (p *parsedJWT) verifyRSA(pub *rsa.PublicKey) bool {
	digest := sha256.Sum256([]byte(p.signingInput))
	switch p.header.Alg {
	case "RS256":
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], p.sig) == nil
	case "PS256":
		return rsa.VerifyPSS(pub, crypto.SHA256, digest[:], p.sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
	}
	return false
}
