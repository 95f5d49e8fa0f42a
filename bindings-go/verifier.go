package anchorwebhooks

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime"
	"time"
)

// Scheme selects the signing scheme. It is chosen explicitly, never guessed from the headers.
type Scheme uint32

const (
	// SchemeAnchor is Anchor-Signature (t=...,v1=<hex>), default tolerance 120 s.
	SchemeAnchor Scheme = 0
	// SchemeStandard is Standard Webhooks (webhook-signature: v1,<base64>, whsec_ secrets), default
	// tolerance 300 s.
	SchemeStandard Scheme = 1
)

// The values of the header's constants that the Go constants above (and DefaultLease) repeat as plain
// numbers, so godoc shows them; a test checks they agree.
const (
	cSchemeAnchor   = C.ANCHOR_SCHEME_ANCHOR
	cSchemeStandard = C.ANCHOR_SCHEME_STANDARD
	cDefaultLease   = C.ANCHOR_DEFAULT_LEASE_MS * time.Millisecond
)

// DefaultMaxBodyBytes is the body limit when WithMaxBodyBytes is not given: 1 MiB.
const DefaultMaxBodyBytes = 1 << 20

type config struct {
	scheme       Scheme
	tolerance    *time.Duration
	maxBodyBytes *int
}

// Option configures NewVerifier.
type Option func(*config)

// WithScheme selects the scheme (SchemeAnchor by default).
func WithScheme(scheme Scheme) Option { return func(c *config) { c.scheme = scheme } }

// WithTolerance sets the two-sided timestamp tolerance (the boundary itself passes). The core counts whole
// seconds: a tolerance that is not a whole number of seconds (900 ms, 1.5 s) makes NewVerifier fail with
// ErrInvalidArgument rather than be rounded. Default: 120 s for Anchor, 300 s for Standard Webhooks.
func WithTolerance(tolerance time.Duration) Option {
	return func(c *config) { c.tolerance = &tolerance }
}

// WithMaxBodyBytes sets the largest body accepted (default 1 MiB).
func WithMaxBodyBytes(n int) Option { return func(c *config) { c.maxBodyBytes = &n } }

// Verifier verifies deliveries against one or more secrets (several during a rotation, newest first).
// It is safe for concurrent use. It does not keep the secret strings: only the library holds the keys,
// and zeroes them when the Verifier is garbage collected.
type Verifier struct {
	handle       *owned[*C.anchor_verifier]
	maxBodyBytes int
}

// owned is v's library verifier, nil for a nil or zero Verifier.
func (v *Verifier) owned() *owned[*C.anchor_verifier] {
	if v == nil {
		return nil
	}
	return v.handle
}

// bodyLimit is v's body limit (0 for a nil Verifier, which the library refuses anyway).
func (v *Verifier) bodyLimit() int {
	if v == nil {
		return 0
	}
	return v.maxBodyBytes
}

// Signature is what VerifySignature reports.
type Signature struct {
	MatchedSecret int
	Timestamp     int64
}

// NewVerifier builds a verifier. It fails with ErrInvalidSecret (the message says which secret and why,
// never its value) or ErrInvalidArgument.
func NewVerifier(secrets []string, opts ...Option) (*Verifier, error) {
	cfg := config{scheme: SchemeAnchor}
	for _, opt := range opts {
		opt(&cfg)
	}
	var tolerance C.uint64_t
	var maxBody C.size_t
	maxBodyBytes := DefaultMaxBodyBytes
	if cfg.tolerance != nil {
		if *cfg.tolerance < 0 {
			return nil, invalidArgument(fmt.Sprintf("invalid_argument: negative tolerance %v", *cfg.tolerance))
		}
		if whole := cfg.tolerance.Truncate(time.Second); whole != *cfg.tolerance {
			// Truncating silently made 900 ms a tolerance of 0 s (only the very second of signing passed).
			return nil, invalidArgument(fmt.Sprintf("invalid_argument: tolerance %v is not a whole number of seconds "+
				"(the tolerance is counted in whole seconds): use %v", *cfg.tolerance, whole+time.Second))
		}
		tolerance = C.uint64_t(*cfg.tolerance / time.Second)
	}
	if cfg.maxBodyBytes != nil {
		if *cfg.maxBodyBytes < 0 {
			return nil, invalidArgument(fmt.Sprintf("invalid_argument: negative body limit %d", *cfg.maxBodyBytes))
		}
		maxBodyBytes = *cfg.maxBodyBytes
		maxBody = C.size_t(maxBodyBytes)
	}
	if err := cfg.scheme.check(); err != nil {
		return nil, err
	}
	packed, lens := packSecrets(secrets)
	out := make([]byte, 1024)
	var res C.go_result
	var ptr *C.anchor_verifier
	code := C.go_new_verifier(C.uint32_t(cfg.scheme), bytesPtr(packed), lensPtr(lens), C.size_t(len(secrets)),
		C.bool(cfg.tolerance != nil), tolerance, C.bool(cfg.maxBodyBytes != nil), maxBody,
		bytesPtr(out), C.size_t(len(out)), &res, &ptr)
	clear(packed) // the only copy of the secrets on the Go side
	if code != C.ANCHOR_RESULT_OK {
		return nil, failure(code, out, &res)
	}
	handle := own(ptr, func(ptr *C.anchor_verifier) { C.anchor_verifier_free(ptr) })
	return &Verifier{handle: handle, maxBodyBytes: maxBodyBytes}, nil
}

// Verify verifies a delivery (headers as received, the raw body bytes) against the host clock and parses
// its envelope. Errors are *Error values (errors.Is with the Err* sentinels); on a nil or zero Verifier,
// ErrNullParameter (as from every method).
func (v *Verifier) Verify(body []byte, h http.Header) (*Event, error) {
	return v.VerifyAt(body, h, time.Now())
}

// VerifyAt is Verify with an explicit clock (tests, replays). A time before 1970 (a zero time.Time, say) is
// ErrInvalidArgument: the library counts time from then.
func (v *Verifier) VerifyAt(body []byte, h http.Header, now time.Time) (*Event, error) {
	if refused := checkClock(now); refused != nil {
		return nil, refused
	}
	handle := v.owned()
	p := pack(h)
	defer p.release()
	out := outputFor(body, p, v.bodyLimit())
	code := C.go_verify(handle.pointer(), bytesPtr(p.bytes), lensPtr(p.lens), p.count(), bytesPtr(body), C.size_t(len(body)),
		unixSeconds(now), bytesPtr(out), C.size_t(len(out)), &p.res)
	runtime.KeepAlive(handle)
	if code != C.ANCHOR_RESULT_OK {
		return nil, failure(code, out, &p.res)
	}
	return eventFrom(out, &p.res, body), nil
}

// VerifySignature checks headers, timestamp and signature against the host clock without parsing the
// body as JSON.
func (v *Verifier) VerifySignature(body []byte, h http.Header) (Signature, error) {
	return v.VerifySignatureAt(body, h, time.Now())
}

// VerifySignatureAt is VerifySignature with an explicit clock (before 1970: ErrInvalidArgument, as VerifyAt).
func (v *Verifier) VerifySignatureAt(body []byte, h http.Header, now time.Time) (Signature, error) {
	if refused := checkClock(now); refused != nil {
		return Signature{}, refused
	}
	handle := v.owned()
	p := pack(h)
	defer p.release()
	scratch, scratchLen := p.scratchPtr()
	code := C.go_verify_signature(handle.pointer(), bytesPtr(p.bytes), lensPtr(p.lens), p.count(), bytesPtr(body),
		C.size_t(len(body)), unixSeconds(now), scratch, scratchLen, &p.res)
	runtime.KeepAlive(handle)
	if code != C.ANCHOR_RESULT_OK {
		return Signature{}, failure(code, p.scratch[:], &p.res)
	}
	return Signature{MatchedSecret: int(p.res.matched_secret), Timestamp: int64(p.res.timestamp)}, nil
}

// VerifyRequest reads the request body (at most the body limit plus one byte, so an oversized body is
// refused with ErrBodyTooLarge without reading it all), verifies it with the request's headers, and
// puts the bytes back in r.Body so the handler can read them again. A body the connection failed to deliver
// is ErrUnreadableBody (unwrapping to the read error); a nil or zero Verifier is ErrNullParameter, as from
// Verify, and the body is left unread.
func (v *Verifier) VerifyRequest(r *http.Request) (*Event, error) {
	if v.owned() == nil {
		return v.Verify(nil, r.Header) // the library's null_parameter and its message
	}
	body, err := readBody(r, v.maxBodyBytes)
	if err != nil {
		return nil, err
	}
	return v.Verify(body, r.Header)
}

// readBody reads and restores a request body, up to limit+1 bytes. Its errors are *Error values.
func readBody(r *http.Request, limit int) ([]byte, *Error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	// limit+1 bytes let the core see an oversized body; saturating, so WithMaxBodyBytes(math.MaxInt) does not
	// wrap to a negative limit (which would read nothing).
	readLimit := int64(limit)
	if readLimit < math.MaxInt64 {
		readLimit++
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, readLimit))
	var stopped *http.MaxBytesError
	if errors.As(err, &stopped) {
		// An http.MaxBytesReader in front refused the body: the same answer as the core's own limit.
		return nil, ErrBodyTooLarge.withMessage(fmt.Sprintf("body too large: http.MaxBytesReader stopped it at %d bytes",
			stopped.Limit))
	}
	if err != nil {
		// The connection failed mid-body: 503, so the sender retries (a 4xx would be final for it).
		unreadable := ErrUnreadableBody.withMessage("the request body could not be read: " + err.Error())
		unreadable.cause = err
		return nil, unreadable
	}
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

// check refuses a Scheme value that is none of the constants, with a message naming the Go constants (the
// library's, from anchor_last_error, names the C ones).
func (s Scheme) check() error {
	if s == SchemeAnchor || s == SchemeStandard {
		return nil
	}
	return invalidArgument(fmt.Sprintf("invalid_argument: unknown scheme %d (SchemeAnchor = %d, SchemeStandard = %d)",
		uint32(s), uint32(SchemeAnchor), uint32(SchemeStandard)))
}

func invalidArgument(message string) *Error {
	return ErrInvalidArgument.withMessage(message)
}

func unixSeconds(now time.Time) C.uint64_t {
	if s := now.Unix(); s > 0 {
		return C.uint64_t(s)
	}
	return 0
}
