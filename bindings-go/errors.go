package anchorwebhooks

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"strings"
	"unsafe"
)

// Error is every error the package's functions and methods return (except Event.DecodeData, which returns
// encoding/json's): a stable Code (the same in every language), the library's result Number (0 for
// CodeUnreadableBody, which is the binding's own), the suggested HTTPStatus and the Message (the core's or,
// for the binding's own checks, the binding's; it never contains a secret, a signature or the body). Use
// errors.Is with the Err* sentinels, or errors.As to read the fields. An ErrUnreadableBody also unwraps to the
// read error.
type Error struct {
	Code       string
	Number     int
	HTTPStatus int
	Message    string
	cause      error
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "anchor-webhooks: " + e.Code
	}
	return "anchor-webhooks: " + e.Message
}

// Unwrap is the error that caused this one (the read error of an ErrUnreadableBody), or nil.
func (e *Error) Unwrap() error { return e.cause }

// withMessage is a copy of the sentinel e (its code, number and status) that carries message.
func (e *Error) withMessage(message string) *Error {
	copied := *e
	copied.Message = message
	return &copied
}

// Is matches any *Error with the same Code, so errors.Is(err, ErrSignatureMismatch) works for the errors
// this package returns.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// The error codes of the core's catalogue (SPEC §5), as declared here; a test compares them with
// ErrorCodes() and prints what to add when the core grows.
const (
	CodeInvalidSecret      = "invalid_secret"
	CodeMissingHeader      = "missing_header"
	CodeMalformedHeader    = "malformed_header"
	CodeMalformedTimestamp = "malformed_timestamp"
	CodeTimestampMismatch  = "timestamp_mismatch"
	CodeTimestampTooOld    = "timestamp_too_old"
	CodeTimestampTooNew    = "timestamp_too_new"
	CodeNoSignature        = "no_signature"
	CodeSignatureMismatch  = "signature_mismatch"
	CodeBodyTooLarge       = "body_too_large"
	CodeInvalidPayload     = "invalid_payload"
	CodeStoreUnavailable   = "store_unavailable"
	// CodeInvalidArgument is the C library's (result 1003) and the binding's own checks': an option out of
	// its range (an unknown scheme, a negative or fractional tolerance, a negative body limit).
	CodeInvalidArgument = "invalid_argument"
	// CodeNullParameter is the C library's (result 1000): a method called on a nil or zero Verifier (one not
	// made by NewVerifier).
	CodeNullParameter = "null_parameter"
	// CodeStoreMisconfigured is the C library's (result 1004): RedisStore.Check found a setup that can never
	// work until it is changed (refuse to start). A server that is merely down is CodeStoreUnavailable.
	CodeStoreMisconfigured = "store_misconfigured"
	// CodeUnreadableBody is the binding's own (Number 0, HTTP 503 so the sender retries): VerifyRequest or
	// Middleware could not read the request body (the connection failed).
	CodeUnreadableBody = "unreadable_body"
)

// Sentinels for errors.Is, one per code. Their Number and HTTPStatus come from the library's catalogue.
var (
	ErrInvalidSecret      = sentinel(CodeInvalidSecret)
	ErrMissingHeader      = sentinel(CodeMissingHeader)
	ErrMalformedHeader    = sentinel(CodeMalformedHeader)
	ErrMalformedTimestamp = sentinel(CodeMalformedTimestamp)
	ErrTimestampMismatch  = sentinel(CodeTimestampMismatch)
	ErrTimestampTooOld    = sentinel(CodeTimestampTooOld)
	ErrTimestampTooNew    = sentinel(CodeTimestampTooNew)
	ErrNoSignature        = sentinel(CodeNoSignature)
	ErrSignatureMismatch  = sentinel(CodeSignatureMismatch)
	ErrBodyTooLarge       = sentinel(CodeBodyTooLarge)
	ErrInvalidPayload     = sentinel(CodeInvalidPayload)
	ErrStoreUnavailable   = sentinel(CodeStoreUnavailable)
	ErrInvalidArgument    = sentinel(CodeInvalidArgument)
	ErrNullParameter      = sentinel(CodeNullParameter)
	ErrStoreMisconfigured = sentinel(CodeStoreMisconfigured)
	ErrUnreadableBody     = &Error{Code: CodeUnreadableBody, HTTPStatus: 503}
)

// sentinels lists every sentinel above, for the drift test and for errorFor.
var sentinels = []*Error{
	ErrInvalidSecret, ErrMissingHeader, ErrMalformedHeader, ErrMalformedTimestamp, ErrTimestampMismatch,
	ErrTimestampTooOld, ErrTimestampTooNew, ErrNoSignature, ErrSignatureMismatch, ErrBodyTooLarge,
	ErrInvalidPayload, ErrStoreUnavailable, ErrInvalidArgument, ErrNullParameter, ErrStoreMisconfigured,
	ErrUnreadableBody,
}

// ErrorCode is one entry of the core's error catalogue.
type ErrorCode struct {
	Code       string
	Number     int
	HTTPStatus int
}

// ErrorCodes returns the core's error catalogue, in order.
func ErrorCodes() []ErrorCode {
	n := int(C.anchor_error_codes_count())
	codes := make([]ErrorCode, 0, n)
	for i := 0; i < n; i++ {
		var info C.anchor_error_code_info
		if C.anchor_error_codes_get(C.size_t(i), &info) != C.ANCHOR_RESULT_OK {
			panic("anchor_error_codes_get failed inside the catalogue's range")
		}
		codes = append(codes, ErrorCode{
			Code:       viewString(info.name),
			Number:     int(info.result),
			HTTPStatus: int(info.http_status),
		})
	}
	return codes
}

// resultInfo asks the library for a result number's name and status.
func resultInfo(number uint32) (name string, status int) {
	var view C.anchor_bytes
	if C.anchor_result_name(C.uint32_t(number), &view) != C.ANCHOR_RESULT_OK {
		return fmt.Sprintf("unknown_result_%d", number), 500
	}
	var httpStatus C.uint16_t
	C.anchor_result_http_status(C.uint32_t(number), &httpStatus)
	return viewString(view), int(httpStatus)
}

// resultsByName is every result the C ABI names: the core's catalogue and the ABI's own (1000 and up).
var resultsByName = func() map[string]ErrorCode {
	byName := map[string]ErrorCode{}
	for _, code := range ErrorCodes() {
		byName[code.Code] = code
	}
	for number := uint32(1000); number < 1016; number++ {
		if name, status := resultInfo(number); !strings.HasPrefix(name, "unknown_result_") {
			byName[name] = ErrorCode{Code: name, Number: int(number), HTTPStatus: status}
		}
	}
	return byName
}()

// resultsByNumber is resultsByName by number, so mapping a failure asks the library nothing more.
var resultsByNumber = func() map[uint32]ErrorCode {
	byNumber := make(map[uint32]ErrorCode, len(resultsByName))
	for _, info := range resultsByName {
		byNumber[uint32(info.Number)] = info
	}
	return byNumber
}()

// sentinel builds the sentinel of a code; its number and status come from the library.
func sentinel(code string) *Error {
	info := resultsByName[code]
	return &Error{Code: code, Number: info.Number, HTTPStatus: info.HTTPStatus}
}

// clockHints rewords the core's guesses about a wrong clock unit, which a time.Time cannot have: in Go, a
// clock that far off is the wrong time, not the wrong unit.
var clockHints = strings.NewReplacer(
	"(`now` looks like unix milliseconds: verification takes unix seconds)",
	"(the clock passed is centuries ahead: check the time given to VerifyAt or ReceiveAt)",
	"(`now` is decades behind: seconds passed where milliseconds are expected (the Rust and C receivers and "+
		"stores take unix milliseconds), or no real time?)",
	"(the receiver's clock and the sender's are decades apart: check the time given to VerifyAt or ReceiveAt, "+
		"or the sender's clock)",
)

// errorFor is the one mapping of result numbers to errors.
func errorFor(number uint32, message string) error {
	if strings.Contains(message, "`now`") { // a hint to reword: allocate only then
		message = clockHints.Replace(message)
	}
	info, known := resultsByNumber[number]
	if !known {
		info.Code, info.HTTPStatus = resultInfo(number)
	}
	return &Error{Code: info.Code, Number: int(number), HTTPStatus: info.HTTPStatus, Message: message}
}

// viewString copies a static or borrowed view into a Go string.
func viewString(view C.anchor_bytes) string {
	if view.len == 0 {
		return ""
	}
	return C.GoStringN((*C.char)(unsafe.Pointer(view.data)), C.int(view.len))
}
