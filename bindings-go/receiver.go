package anchorwebhooks

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"time"
)

// Receiver verifies deliveries and dedupes them by event id in a store, then runs a handler once per
// event: what Middleware does, for code that is not an http.Handler (a queue consumer, a framework with
// handlers of its own). Safe for concurrent use; make one per endpoint and keep it.
type Receiver struct {
	receiver *C.anchor_receiver
	verifier *Verifier
	store    Store
	lease    time.Duration
}

// OutcomeKind names what Receive did: the core's names, the same in every language.
type OutcomeKind string

const (
	// OutcomeProcessed: the handler ran and returned nil; the event is done (200).
	OutcomeProcessed OutcomeKind = "processed"
	// OutcomeDuplicate: the event was processed before; the handler did not run (200).
	OutcomeDuplicate OutcomeKind = "duplicate"
	// OutcomeInProgress: another delivery of the event holds the claim; the handler did not run (503, retry).
	OutcomeInProgress OutcomeKind = "in_progress"
	// OutcomeRejected: verification or the store failed (the error's status). Err is the *Error.
	OutcomeRejected OutcomeKind = "rejected"
	// OutcomeHandlerFailed: the handler returned an error; the claim was released so the sender's retry
	// runs it again (500). Err is the handler's error.
	OutcomeHandlerFailed OutcomeKind = "handler_failed"
)

// Outcome is what Receive did with one delivery, and the HTTP answer to give the sender.
type Outcome struct {
	Kind OutcomeKind
	// Status is the HTTP status to answer with: 200 processed or duplicate, 503 in progress, the error's
	// for rejected (401, 400, 413; 503 store_unavailable), 500 handler failed.
	Status int
	// RetryAfter is the Retry-After to send with a 503 (in progress, store unavailable); 0 otherwise.
	RetryAfter time.Duration
	// Event is the verified event; nil when the delivery was rejected before its handler could run. A
	// rejected outcome with an Event is a handler that ran but whose completion the store could not
	// record: Err says so, the claim ends with its lease, and a retry after that runs the handler again.
	Event *Event
	// Err is the *Error of a rejected delivery (errors.Is with the Err* sentinels), or the handler's error.
	Err error
	// ClaimLost is the core's warning when the handler succeeded but outlasted its lease, so another
	// delivery of the event may have taken the claim over and run it too ("" otherwise). Log it, and choose
	// a lease longer than the handler.
	ClaimLost string
	// ReleaseErr is the store's error when the claim of a failed handler could not be released: the claim
	// then ends with its lease, and retries until then are answered in progress. nil otherwise.
	ReleaseErr error
}

// errorOutcome is the outcome of a delivery refused with refused; event is set when its handler ran.
func errorOutcome(event *Event, refused *Error) Outcome {
	outcome := Outcome{Kind: OutcomeRejected, Status: refused.HTTPStatus, Event: event, Err: refused}
	if refused.HTTPStatus == http.StatusServiceUnavailable {
		outcome.RetryAfter = C.ANCHOR_IN_PROGRESS_RETRY_AFTER_SECONDS * time.Second
	}
	return outcome
}

// NewReceiver makes a receiver over v and store (a MemoryStore or a RedisStore). lease is how long the
// claim on a fresh event lasts (DefaultLease unless you know better): longer than the slowest handler, since
// a retry arriving after it takes the event over and runs the handler again, and well shorter than the
// sender's retry window, since a worker that dies in the handler holds the event for the whole lease.
//
// A nil verifier or store (or a zero one), or a lease under 1 s, is a programming error: NewReceiver
// panics naming it, with the core's reason for the lease, as Middleware does.
func NewReceiver(v *Verifier, store Store, lease time.Duration) *Receiver {
	return newReceiver("NewReceiver", v, store, lease, fmt.Sprintf("NewReceiver(lease %s)", lease))
}

// newReceiver is NewReceiver for caller (the function named in a panic); leaseSetting names the lease the
// caller was given.
func newReceiver(caller string, v *Verifier, store Store, lease time.Duration, leaseSetting string) *Receiver {
	requireParts(caller, v, store)
	var receiver *C.anchor_receiver
	var res C.go_result
	out := make([]byte, 512)
	code := store.newReceiver(v, C.uint64_t(max(lease, 0)/time.Millisecond), out, &res, &receiver)
	runtime.KeepAlive(v.owned())
	if code != C.ANCHOR_RESULT_OK {
		// The parts were checked above: what the library can still refuse is the lease.
		setting := caller
		if code == C.ANCHOR_RESULT_INVALID_ARGUMENT {
			setting = leaseSetting
		}
		panic(fmt.Sprintf("anchorwebhooks: %s: %s", setting, failureMessage(out, &res)))
	}
	r := &Receiver{receiver: receiver, verifier: v, store: store, lease: lease}
	runtime.AddCleanup(r, func(ptr *C.anchor_receiver) { C.anchor_receiver_free(ptr) }, receiver)
	return r
}

// requireParts panics, naming caller, when v or store is nil or zero (a programming error).
func requireParts(caller string, v *Verifier, store Store) {
	switch {
	case v.owned() == nil:
		panic("anchorwebhooks: " + caller + ": the verifier is nil (make it with NewVerifier)")
	case store == nil || !store.ready():
		panic("anchorwebhooks: " + caller + ": the store is nil (make it with NewMemoryStore or NewRedisStore)")
	}
}

// Verifier is the verifier the receiver was made with.
func (r *Receiver) Verifier() *Verifier { return r.verifier }

// Store is the store the receiver was made with.
func (r *Receiver) Store() Store { return r.store }

// Lease is how long a claim lasts.
func (r *Receiver) Lease() time.Duration { return r.lease }

// Receive verifies body (the raw bytes, as signed) and h, claims the event's id, and for a fresh event
// runs handler, then completes the claim when it returns nil (later deliveries are duplicates) or releases
// it when it returns an error or panics (the panic goes on, and the sender's retry runs the handler
// again; a release that fails under a panic is left to the lease). A duplicate or an event in progress elsewhere does not run handler. Never an error of its own:
// every failure is an Outcome (Kind rejected, Err the *Error). The clock is the host's.
//
// With a RedisStore, each call waits on Redis at most about the store's timeout for its claim and again for
// its complete; beyond WithRedisMaxConcurrentCalls claims at once, a delivery is verified (a forgery is
// still rejected as such) and rejected with store_unavailable.
func (r *Receiver) Receive(body []byte, h http.Header, handler func(*Event) error) Outcome {
	return r.receive(body, h, time.Now, handler)
}

// ReceiveAt is Receive with the receiver's clock fixed at now, for the verification, the claim and its
// end (tests, replays).
func (r *Receiver) ReceiveAt(body []byte, h http.Header, now time.Time, handler func(*Event) error) Outcome {
	return r.receive(body, h, func() time.Time { return now }, handler)
}

// receive is Receive with clock, read at each step (the claim, its end).
func (r *Receiver) receive(body []byte, h http.Header, clock func() time.Time, handler func(*Event) error) Outcome {
	if handler == nil {
		panic("anchorwebhooks: Receive: the handler is nil")
	}
	nowMs := func() C.uint64_t { return C.uint64_t(max(clock().UnixMilli(), 0)) }
	p := pack(h)
	defer p.release()
	out := outputFor(body, p, r.verifier.bodyLimit())
	turnDone, ok := r.store.turn()
	if !ok {
		// The store's calls are all taken (Redis slow or hung): verify anyway, so a forgery is still refused
		// as one.
		var refused *Error
		if _, err := r.verifier.VerifyAt(body, h, clock()); errors.As(err, &refused) {
			return errorOutcome(nil, refused)
		}
		return errorOutcome(nil, r.store.busy())
	}
	var claim *C.anchor_event
	code := C.go_receive(r.receiver, bytesPtr(p.bytes), lensPtr(p.lens), p.count(), bytesPtr(body),
		C.size_t(len(body)), nowMs(), bytesPtr(out), C.size_t(len(out)), &p.res, &claim)
	turnDone()
	runtime.KeepAlive(r)
	if code != C.ANCHOR_RESULT_OK {
		var refused *Error
		errors.As(failure(code, out, &p.res), &refused)
		return errorOutcome(nil, refused)
	}
	event := eventFrom(out, &p.res, body)
	switch p.res.reception {
	case C.ANCHOR_RECEPTION_DUPLICATE:
		return Outcome{Kind: OutcomeDuplicate, Status: http.StatusOK, Event: event}
	case C.ANCHOR_RECEPTION_IN_PROGRESS:
		return Outcome{Kind: OutcomeInProgress, Status: http.StatusServiceUnavailable, Event: event,
			RetryAfter: C.ANCHOR_IN_PROGRESS_RETRY_AFTER_SECONDS * time.Second}
	}
	return r.runFresh(event, claim, p, nowMs, handler)
}

// runFresh runs handler for a claimed event, then completes or releases the claim (also when handler
// panics: the claim is released and the panic goes on). p is the call's state, whose scratch and result
// receive the store's messages (the event copied out what it needs).
func (r *Receiver) runFresh(event *Event, claim *C.anchor_event, p *callState, nowMs func() C.uint64_t,
	handler func(*Event) error) (outcome Outcome) {
	returned := false
	var handlerErr error
	defer func() {
		succeeded := returned && handlerErr == nil
		var done C.bool
		p.res = C.go_result{}
		scratch, capacity := p.scratchPtr()
		var code C.anchor_result
		if succeeded {
			// OK with done false: the lease ran out and another delivery took the claim over.
			code = C.go_complete(r.receiver, claim, nowMs(), scratch, capacity, &p.res, &done)
		} else {
			code = C.go_release(r.receiver, claim, nowMs(), scratch, capacity, &p.res, &done)
		}
		C.anchor_event_free(claim)
		runtime.KeepAlive(r)
		var storeErr *Error
		if code != C.ANCHOR_RESULT_OK {
			errors.As(failure(code, p.scratch[:], &p.res), &storeErr)
		}
		switch {
		case !returned:
			// Panicking: the release is done (a failed one leaves the claim to its lease); the panic goes on.
		case succeeded && storeErr != nil:
			// The core's Outcome::after_handler: the handler ran unrecorded (the message says so), 503.
			outcome = errorOutcome(event, storeErr)
		case succeeded:
			outcome = Outcome{Kind: OutcomeProcessed, Status: http.StatusOK, Event: event}
			if !bool(done) {
				outcome.ClaimLost = failureMessage(p.scratch[:], &p.res)
			}
		default:
			outcome = Outcome{Kind: OutcomeHandlerFailed, Status: http.StatusInternalServerError, Event: event,
				Err: handlerErr}
			if storeErr != nil {
				outcome.ReleaseErr = storeErr
			}
		}
	}()
	handlerErr = handler(event)
	returned = true
	return Outcome{}
}
