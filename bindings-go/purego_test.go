package anchorwebhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// pureGoVerifySignature is the benchmark's reference: the Anchor check written the careful way with the
// standard library only (crypto/hmac, constant-time hmac.Equal), including the header parsing a real
// receiver needs: one Anchor-Signature, comma-separated items with trimmed spaces, t= and up to 16 v1=
// items of 64 hex digits, Anchor-Timestamp (equal to t= when both are present), 1 to 12 digits, the
// two-sided tolerance. It allocates only what crypto/hmac does.
func pureGoVerifySignature(secret []byte, body []byte, h http.Header, now, tolerance int64) (int64, error) {
	values := h.Values("Anchor-Signature")
	if len(values) != 1 {
		return 0, errors.New("missing or repeated Anchor-Signature")
	}
	var t string
	var signatures [16][32]byte
	n := 0
	rest := values[0]
	for rest != "" {
		var item string
		item, rest, _ = strings.Cut(rest, ",")
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, value, ok := strings.Cut(item, "=")
		if !ok || key == "" {
			return 0, errors.New("malformed item")
		}
		switch key {
		case "t":
			if t != "" {
				return 0, errors.New("duplicated t")
			}
			t = value
		case "v1":
			if len(value) != 64 || n == len(signatures) || !decodeHex(signatures[n][:], value) {
				return 0, errors.New("malformed v1")
			}
			n++
		}
	}
	if n == 0 {
		return 0, errors.New("no signature")
	}
	stamp := h.Values("Anchor-Timestamp")
	if len(stamp) > 1 {
		return 0, errors.New("repeated Anchor-Timestamp")
	}
	ts := t
	if len(stamp) == 1 {
		if t != "" && stamp[0] != t {
			return 0, errors.New("timestamp mismatch")
		}
		ts = stamp[0]
	}
	seconds, ok := parseTimestamp(ts)
	if !ok {
		return 0, errors.New("malformed timestamp")
	}
	if now-seconds > tolerance || seconds-now > tolerance {
		return 0, errors.New("outside the tolerance")
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("v0:"))
	mac.Write([]byte(ts))
	mac.Write([]byte(":"))
	mac.Write(body)
	var sum [32]byte
	mac.Sum(sum[:0])
	for i := 0; i < n; i++ {
		if hmac.Equal(sum[:], signatures[i][:]) {
			return seconds, nil
		}
	}
	return 0, errors.New("signature mismatch")
}

func decodeHex(dst []byte, src string) bool {
	digit := func(c byte) (byte, bool) {
		switch {
		case '0' <= c && c <= '9':
			return c - '0', true
		case 'a' <= c && c <= 'f':
			return c - 'a' + 10, true
		case 'A' <= c && c <= 'F':
			return c - 'A' + 10, true
		}
		return 0, false
	}
	for i := range dst {
		hi, ok1 := digit(src[2*i])
		lo, ok2 := digit(src[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func parseTimestamp(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 12 {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + int64(s[i]-'0')
	}
	return v, true
}

// pureGoEnvelope is what a pure-Go receiver decodes after the check: the envelope, with data kept raw.
type pureGoEnvelope struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Created   time.Time       `json:"created"`
	ProjectID string          `json:"project_id"`
	Text      string          `json:"text"`
	Data      json.RawMessage `json:"data"`
}

// pureGoVerify is the reference for Verify: the check above, then encoding/json with the envelope's
// required fields checked.
func pureGoVerify(secret []byte, body []byte, h http.Header, now, tolerance int64) (*pureGoEnvelope, error) {
	if _, err := pureGoVerifySignature(secret, body, h, now, tolerance); err != nil {
		return nil, err
	}
	var envelope pureGoEnvelope
	if err := json.Unmarshal(body, &envelope); err != nil {
		return nil, err
	}
	if envelope.ID == "" || envelope.Type == "" || envelope.Created.IsZero() || len(envelope.Data) == 0 || envelope.Data[0] != '{' {
		return nil, errors.New("invalid payload")
	}
	return &envelope, nil
}
