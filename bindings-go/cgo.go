package anchorwebhooks

// The cgo boundary: the flags that find the static library, and a small C shim that does one crossing
// per verification. Go memory handed to C here holds no Go pointers (byte buffers and length arrays), and
// C keeps none of it after the call, so the cgo pointer rules hold without pinning.

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#cgo LDFLAGS: -L${SRCDIR}/../target/release -l:libanchor_webhooks.a -lpthread -ldl -lm
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"net/http"
	"runtime"
	"sync"
	"unsafe"
)

// owned holds one library object (P is a pointer to an opaque C type, which cannot be a type argument
// itself). Copies of the Go value that holds it share it, and the cleanup that frees the object is tied to
// it, not to one of those values, so the object is never freed while a copy can still reach it.
type owned[P any] struct{ ptr P }

// own wraps ptr, which free releases once nothing reaches the returned handle.
func own[P any](ptr P, free func(P)) *owned[P] {
	handle := &owned[P]{ptr: ptr}
	runtime.AddCleanup(handle, free, ptr)
	return handle
}

// pointer is the object; nil for a nil handle (a nil or zero Verifier/MemoryStore: the library answers
// null_parameter).
func (h *owned[P]) pointer() P {
	if h == nil {
		var none P
		return none
	}
	return h.ptr
}

// callState is the Go side of one call: http.Header flattened for the shim (bytes back to back, two
// lengths per header), a scratch buffer for messages, and the shim's result. Pooled, so a verification
// allocates nothing here; none of it holds Go pointers when C sees it.
type callState struct {
	bytes   []byte
	lens    []C.size_t
	scratch [512]byte
	res     C.go_result
}

var statePool = sync.Pool{New: func() any { return &callState{bytes: make([]byte, 0, 1024)} }}

// pack flattens h, one entry per value (repeated names stay repeated: the core decides what that means).
func pack(h http.Header) *callState {
	p := statePool.Get().(*callState)
	p.bytes, p.lens, p.res = p.bytes[:0], p.lens[:0], C.go_result{}
	for name, values := range h {
		for _, value := range values {
			p.bytes = append(p.bytes, name...)
			p.bytes = append(p.bytes, value...)
			p.lens = append(p.lens, C.size_t(len(name)), C.size_t(len(value)))
		}
	}
	return p
}

func (p *callState) release() {
	if cap(p.bytes) <= 64<<10 {
		statePool.Put(p)
	}
}

func (p *callState) count() C.size_t { return C.size_t(len(p.lens) / 2) }

func (p *callState) scratchPtr() (*C.uint8_t, C.size_t) {
	return (*C.uint8_t)(unsafe.Pointer(&p.scratch[0])), C.size_t(len(p.scratch))
}

func bytesPtr(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(b)))
}

func lensPtr(l []C.size_t) *C.size_t {
	if len(l) == 0 {
		return nil
	}
	return (*C.size_t)(unsafe.Pointer(unsafe.SliceData(l)))
}

// outputSize is a buffer that holds every text field of an event: they are parts of the body (id, type,
// project id, text, data) or of the headers (delivery id, the Standard Webhooks id).
func outputSize(body []byte, p *callState) int {
	return len(body) + 2*len(p.bytes) + 256
}

// outputFor is the buffer a verification copies the event's fields into. A body over the verifier's limit
// is refused before any field exists, so it gets the pooled message buffer: nothing is allocated in
// proportion to a body the core will not read (SPEC §3.7).
func outputFor(body []byte, p *callState, maxBodyBytes int) []byte {
	if len(body) > maxBodyBytes {
		return p.scratch[:]
	}
	return make([]byte, outputSize(body, p))
}

// packSecrets copies the secrets back to back into one buffer of the exact size (so append never regrows
// it and leaves an earlier copy behind), with their lengths. The caller clears the bytes after the call.
func packSecrets(secrets []string) ([]byte, []C.size_t) {
	total := 0
	for _, secret := range secrets {
		total += len(secret)
	}
	packed := make([]byte, 0, total)
	lens := make([]C.size_t, 0, len(secrets))
	for _, secret := range secrets {
		packed = append(packed, secret...)
		lens = append(lens, C.size_t(len(secret)))
	}
	return packed, lens
}

// failure turns a result code and the shim's message into the package's error.
func failure(code C.anchor_result, out []byte, res *C.go_result) error {
	return errorFor(uint32(code), failureMessage(out, res))
}

// failureMessage is the message a failed shim call left in out or in res.big_message (freed here).
func failureMessage(out []byte, res *C.go_result) string {
	switch {
	case res.big_message != nil:
		message := C.GoStringN(res.big_message, C.int(res.message_len))
		C.free(unsafe.Pointer(res.big_message))
		res.big_message = nil
		return message
	case res.message_len > 0:
		return string(out[:res.message_len])
	}
	return ""
}

// text is a string view of a field copied into out (out is never written again). A view keeps all of out
// alive: eventFrom copies the short fields before an Event keeps them.
func text(out []byte, span C.go_span) string {
	if span.len == 0 {
		return ""
	}
	return unsafe.String(&out[span.off], int(span.len))
}
