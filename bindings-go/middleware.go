package anchorwebhooks

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"runtime"
	"strconv"
	"time"
)

type eventKey struct{}

// EventFromContext returns the verified event Middleware put in the request's context.
func EventFromContext(ctx context.Context) (*Event, bool) {
	event, ok := ctx.Value(eventKey{}).(*Event)
	return event, ok
}

// retryAfter is the Retry-After of a 503 for an in-progress delivery or an unavailable store.
var retryAfter = strconv.Itoa(C.ANCHOR_IN_PROGRESS_RETRY_AFTER_SECONDS)

type middleware struct {
	receiver     *C.anchor_receiver
	handler      http.Handler
	maxBodyBytes int
}

// Middleware verifies every request with v, dedupes by event id in store, and runs handler once per
// event, with the verified event in the request's context (EventFromContext) and the body still
// readable. Answers, without running handler unless it says so:
//
//   - verification failed: the code's HTTP status (401 forged or stale, 400 malformed, 413 too large),
//     body {"error":"<code>"};
//   - a duplicate (already processed): 200 {"ok":true,"outcome":"duplicate"};
//   - in progress on another request, or the store unavailable: 503 with Retry-After, so the sender
//     retries (answering 200 would lose the event if the first request fails);
//   - a fresh event: handler runs. If it answers 5xx or panics, or the request was cancelled before it
//     returned, the claim is released so the sender's retry is processed; otherwise the event is marked done;
//   - a body the connection failed to deliver: 503 with Retry-After; one an http.MaxBytesReader in front
//     stopped: 413 body_too_large.
func Middleware(v *Verifier, store *MemoryStore, handler http.Handler) http.Handler {
	var receiver *C.anchor_receiver
	code := C.anchor_receiver_new(v.owned().pointer(), store.owned().pointer(), C.ANCHOR_DEFAULT_LEASE_MS, &receiver)
	runtime.KeepAlive(v.owned())
	runtime.KeepAlive(store.owned())
	if code != C.ANCHOR_RESULT_OK {
		panic(errorFor(uint32(code), "anchor_receiver_new"))
	}
	m := &middleware{receiver: receiver, handler: handler, maxBodyBytes: v.maxBodyBytes}
	runtime.AddCleanup(m, func(ptr *C.anchor_receiver) { C.anchor_receiver_free(ptr) }, receiver)
	return m
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r, m.maxBodyBytes)
	var refused *Error
	if errors.As(err, &refused) {
		answer(w, refused.HTTPStatus, map[string]any{"error": refused.Code})
		return
	}
	if err != nil {
		// The connection failed mid-body: a 4xx would be final for the sender, so ask for a retry.
		w.Header().Set("Retry-After", retryAfter)
		answer(w, http.StatusServiceUnavailable, map[string]any{"error": "unreadable_body"})
		return
	}
	p := pack(r.Header)
	defer p.release()
	out := make([]byte, outputSize(body, p))
	var claim *C.anchor_event
	code := C.go_receive(m.receiver, bytesPtr(p.bytes), lensPtr(p.lens), p.count(), bytesPtr(body),
		C.size_t(len(body)), C.uint64_t(time.Now().UnixMilli()), bytesPtr(out), C.size_t(len(out)), &p.res, &claim)
	runtime.KeepAlive(m)
	if code != C.ANCHOR_RESULT_OK {
		errors.As(failure(code, out, &p.res), &refused)
		if refused.HTTPStatus == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", retryAfter)
		}
		answer(w, refused.HTTPStatus, map[string]any{"error": refused.Code})
		return
	}
	switch p.res.reception {
	case C.ANCHOR_RECEPTION_DUPLICATE:
		answer(w, http.StatusOK, map[string]any{"ok": true, "outcome": "duplicate"})
	case C.ANCHOR_RECEPTION_IN_PROGRESS:
		w.Header().Set("Retry-After", retryAfter)
		answer(w, http.StatusServiceUnavailable, map[string]any{"error": "in_progress"})
	default:
		m.runFresh(w, r, eventFrom(out, &p.res, body), claim)
	}
}

// runFresh runs the handler for a claimed event, then completes or releases the claim.
func (m *middleware) runFresh(w http.ResponseWriter, r *http.Request, event *Event, claim *C.anchor_event) {
	recorder := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	succeeded := false
	defer func() {
		// Also on a panic (re-raised as is): an unfinished handler releases the claim.
		var done C.bool
		now := C.uint64_t(time.Now().UnixMilli())
		if succeeded {
			C.anchor_receiver_complete(m.receiver, claim, now, &done)
		} else {
			C.anchor_receiver_release(m.receiver, claim, now, &done)
		}
		C.anchor_event_free(claim)
		runtime.KeepAlive(m)
	}()
	m.handler.ServeHTTP(recorder, r.WithContext(context.WithValue(r.Context(), eventKey{}, event)))
	// A request cancelled before the handler returned (client gone, server shutting down) may have stopped
	// the handler's work: release, so the sender's retry runs it (at least once, never lost).
	succeeded = recorder.status < 500 && r.Context().Err() == nil
}

// statusRecorder remembers the status the handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status  int
	written bool
}

func (s *statusRecorder) WriteHeader(status int) {
	if !s.written {
		s.status, s.written = status, true
	}
	s.ResponseWriter.WriteHeader(status)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.written = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer (Flush, deadlines).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func answer(w http.ResponseWriter, status int, body map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
