package anchorwebhooks

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"net/http"
	"unsafe"
)

type signConfig struct {
	scheme    Scheme
	id        *string
	eventType *string
}

// SignOption configures Sign.
type SignOption func(*signConfig)

// SignScheme selects the scheme (SchemeAnchor by default).
func SignScheme(scheme Scheme) SignOption { return func(c *signConfig) { c.scheme = scheme } }

// SignID sets Anchor-Delivery-Id / webhook-id (default: derived from the timestamp and body).
func SignID(id string) SignOption { return func(c *signConfig) { c.id = &id } }

// SignEventType sets Anchor-Event (default: the body's "type" field).
func SignEventType(eventType string) SignOption {
	return func(c *signConfig) { c.eventType = &eventType }
}

// Sign produces the headers of a delivery of body signed at timestamp (unix seconds) with every secret
// (one signature each, as during a rotation), as the provider would: for tests and local tools. A timestamp
// no verifier accepts (negative, or over 12 digits: milliseconds) is ErrMalformedTimestamp.
func Sign(secrets []string, body []byte, timestamp int64, opts ...SignOption) (http.Header, error) {
	cfg := signConfig{scheme: SchemeAnchor}
	for _, opt := range opts {
		opt(&cfg)
	}
	if err := cfg.scheme.check(); err != nil {
		return nil, err
	}
	if timestamp < 0 {
		// The library takes an unsigned timestamp (it refuses the too large ones itself); worded like its refusal.
		return nil, ErrMalformedTimestamp.withMessage(fmt.Sprintf("malformed timestamp in the timestamp given to sign "+
			"(negative: %d): expected unix seconds as 1 to 12 ASCII digits", timestamp))
	}
	packed, lens := packSecrets(secrets)
	defer clear(packed)
	optional := func(value *string) (C.bool, *C.uint8_t, C.size_t) {
		if value == nil {
			return false, nil, 0
		}
		b := []byte(*value)
		return true, bytesPtr(b), C.size_t(len(b))
	}
	hasID, id, idLen := optional(cfg.id)
	hasEventType, eventType, eventTypeLen := optional(cfg.eventType)
	var signed *C.anchor_signed_headers
	var res C.go_result
	out := make([]byte, 512)
	code := C.go_sign(C.uint32_t(cfg.scheme), bytesPtr(packed), lensPtr(lens), C.size_t(len(secrets)), bytesPtr(body),
		C.size_t(len(body)), C.uint64_t(timestamp), hasID, id, idLen, hasEventType, eventType, eventTypeLen,
		bytesPtr(out), C.size_t(len(out)), &res, &signed)
	if code != C.ANCHOR_RESULT_OK {
		return nil, failure(code, out, &res)
	}
	defer C.anchor_signed_headers_free(signed)
	var headers *C.anchor_header
	var n C.size_t
	C.anchor_signed_headers_get(signed, &headers, &n)
	h := http.Header{}
	for _, header := range unsafe.Slice(headers, int(n)) {
		name := C.GoStringN((*C.char)(unsafe.Pointer(header.name)), C.int(header.name_len))
		value := C.GoStringN((*C.char)(unsafe.Pointer(header.value)), C.int(header.value_len))
		h.Add(name, value)
	}
	return h, nil
}
