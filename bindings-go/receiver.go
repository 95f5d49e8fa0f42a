package anchorwebhooks

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"time"
)

// Receiver verifies deliveries and dedupes them by event id in a store, then runs a handler once per
// event: what Middleware does, for code that is not an http.Handler (a queue consumer, a framework with
// handlers of its own). Safe for concurrent use, and to copy; make one per endpoint and keep it.
type Receiver struct {
	handle   *owned[*C.anchor_receiver]
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

// Outcome is what Receive did with one delivery, and the HTTP answer to give the sender. Keeping an Outcome
// keeps its Event, and so the body and a buffer about its size (Event's doc): keep the fields you need.
type Outcome struct {
	Kind OutcomeKind
	// Status is the HTTP status to answer with: 200 processed or duplicate, 503 in progress, the error's
	// for rejected (401, 400, 413; 503 store_unavailable), 500 handler failed.
	Status int
	// RetryAfter is the Retry-After to send with a 503 (in progress, store unavailable); 0 otherwise.
	RetryAfter time.Duration
	// Event is the verified event; nil when the delivery was rejected before its handler could run. A
	// rejected outcome with an Event (HandlerRan) is a handler that succeeded but whose completion the store
	// could not record: Err says so, and the claim ends with its lease. Its Status is 503, the core's rule in
	// every language (at least once: the sender retries, and the retry after the lease runs the handler
	// again); Middleware, which has written the handler's answer by then, keeps it instead. Answer 200 if a
	// second run is worse for you than a lost record.
	Event *Event
	// Err is the *Error of a rejected delivery (errors.Is with the Err* sentinels), or the handler's error.
	Err error
	// ClaimLost is the core's warning when the handler succeeded but outlasted its lease, so another
	// delivery of the event may have taken the claim over and run it too ("" otherwise). Log it, and choose
	// a lease longer than the handler.
	ClaimLost string
	// ReleaseErr is the store's *Error when the claim of a failed handler could not be released: the claim
	// then ends with its lease, and retries until then are answered in progress. nil otherwise.
	ReleaseErr error
}

// retryAfterDuration is the Retry-After of a 503 (in progress, store unavailable).
const retryAfterDuration = C.ANCHOR_IN_PROGRESS_RETRY_AFTER_SECONDS * time.Second

// HandlerRan is whether the handler ran for this delivery: processed, handler failed, or rejected with an
// Event (the store could not record the outcome of a handler that ran).
func (o Outcome) HandlerRan() bool {
	switch o.Kind {
	case OutcomeProcessed, OutcomeHandlerFailed:
		return true
	case OutcomeRejected:
		return o.Event != nil
	}
	return false
}

// errorOutcome is the outcome of a delivery refused with refused; event is set when its handler ran.
func errorOutcome(event *Event, refused *Error) Outcome {
	outcome := Outcome{Kind: OutcomeRejected, Status: refused.HTTPStatus, Event: event, Err: refused}
	if refused.HTTPStatus == http.StatusServiceUnavailable {
		outcome.RetryAfter = retryAfterDuration
	}
	return outcome
}

type receiverConfig struct {
	lease time.Duration
}

// ReceiverOption configures NewReceiver: WithLease. A nil option is skipped.
type ReceiverOption interface {
	applyToReceiver(*receiverConfig)
}

// LeaseOption is WithLease's option, for NewReceiver and Middleware alike.
type LeaseOption interface {
	ReceiverOption
	MiddlewareOption
}

type leaseOption time.Duration

func (o leaseOption) applyToReceiver(c *receiverConfig)     { c.lease = time.Duration(o) }
func (o leaseOption) applyToMiddleware(c *middlewareConfig) { c.lease = time.Duration(o) }

// WithLease sets how long the claim on a fresh event lasts (default DefaultLease, 30 s; at least 1 s, else
// NewReceiver or Middleware panics with the core's reason, the same in every language; counted in whole
// milliseconds). Choose it longer than the slowest handler: a retry arriving after the lease runs out
// takes the event over and runs the handler again, possibly while the first run is still going. Too long
// a lease keeps the retries of an event whose worker died mid-handler answered 503 past the sender's last
// attempt (80 s after the first). With Middleware, a handler slower than the sender's 10 s timeout (or a
// proxy's) has its request cancelled when the connection closes: if it still answers a 2xx after that, the
// event is done and the sender's retry is answered duplicate; if it gives up (no answer, or another status),
// the claim is released and the retry (5, 15, 30, 50 and 80 s after the first attempt) runs it again.
// Either way the sender saw a failed attempt: acknowledge fast and hand long work off to a queue of your
// own instead.
func WithLease(lease time.Duration) LeaseOption { return leaseOption(lease) }

// NewReceiver makes a receiver over v and store (a MemoryStore or a RedisStore), with a claim lease of
// DefaultLease unless WithLease says otherwise.
//
// A nil verifier or store (or a zero one), or a lease under 1 s, is a programming error: NewReceiver
// panics naming it, with the core's reason for the lease, as Middleware does.
func NewReceiver(v *Verifier, store Store, opts ...ReceiverOption) *Receiver {
	cfg := receiverConfig{lease: DefaultLease}
	for _, opt := range opts {
		if opt != nil {
			opt.applyToReceiver(&cfg)
		}
	}
	return newReceiver("NewReceiver", v, store, cfg.lease)
}

// leaseNames turns the core's name of the lease setting (the C parameter's) into the option's.
var leaseNames = strings.NewReplacer("lease_ms must", "the lease must")

// newReceiver is NewReceiver for caller, the function named in a panic.
func newReceiver(caller string, v *Verifier, store Store, lease time.Duration) *Receiver {
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
			setting = fmt.Sprintf("%s(WithLease(%s))", caller, lease)
		}
		panic(fmt.Sprintf("anchorwebhooks: %s: %s", setting, leaseNames.Replace(failureMessage(out, &res))))
	}
	handle := own(receiver, func(ptr *C.anchor_receiver) { C.anchor_receiver_free(ptr) })
	return &Receiver{handle: handle, verifier: v, store: store, lease: lease.Truncate(time.Millisecond)}
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

// Verifier is the verifier the receiver was made with (nil for a nil Receiver).
func (r *Receiver) Verifier() *Verifier {
	if r == nil {
		return nil
	}
	return r.verifier
}

// Store is the store the receiver was made with (nil for a nil Receiver).
func (r *Receiver) Store() Store {
	if r == nil {
		return nil
	}
	return r.store
}

// Lease is how long a claim lasts (whole milliseconds: the core counts them; 0 for a nil Receiver).
func (r *Receiver) Lease() time.Duration {
	if r == nil {
		return 0
	}
	return r.lease
}

// Receive verifies body (the raw bytes, as signed) and h, claims the event's id, and for a fresh event
// runs handler with ctx, then completes the claim when it returns nil (later deliveries are duplicates) or
// releases it when it returns an error or panics (the panic goes on, and the sender's retry runs the
// handler again; a release that fails under a panic is left to the lease). A duplicate or an event in
// progress elsewhere does not run handler. Every failure is an Outcome (Kind rejected, Err the *Error);
// Receive returns no error of its own. The clock is the host's. A nil or zero Receiver, or a nil handler,
// is a programming error: Receive panics naming it.
//
// ctx is handed to handler; Receive itself does not look at it (a cancelled ctx still claims the event and
// runs handler, which sees it cancelled: check ctx.Err() before calling Receive to stop taking work), and
// the library's calls on the store do not follow it. With a RedisStore, a call waits up to the store's
// timeout for a call slot (WithRedisMaxConcurrentCalls: claims and the completes and releases after
// handlers have slots of their own), then up to the timeout on Redis, for the claim and again for its end:
// up to about twice the timeout for the claim, and up to the lease plus the timeout for its end, when Redis
// hangs. A delivery that finds no slot for its claim is
// verified (a forgery is still rejected as such) and rejected with store_unavailable. A complete or a release
// waits for its slot as long as the lease (the handler ran; waiting holds no thread); one that finds none
// then is rejected as unrecorded (the claim ends with its lease), or is a ReleaseErr.
func (r *Receiver) Receive(ctx context.Context, body []byte, h http.Header, handler func(context.Context, *Event) error) Outcome {
	return r.receive(ctx, body, h, time.Now, handler, nil)
}

// ReceiveAt is Receive with the receiver's clock fixed at now (tests, replays): for the verification, and
// for the lease with a MemoryStore. A RedisStore's leases expire in the server's own time. A time before
// 1970 is refused (rejected, ErrInvalidArgument): a zero time.Time is no clock.
func (r *Receiver) ReceiveAt(ctx context.Context, body []byte, h http.Header, now time.Time,
	handler func(context.Context, *Event) error) Outcome {
	return r.receive(ctx, body, h, func() time.Time { return now }, handler, nil)
}

// receive is Receive with clock, read at each step (the claim, its end). unreleased, when not nil
// (Middleware), hears of a release that failed while the handler panicked: the one store failure an Outcome
// cannot carry.
func (r *Receiver) receive(ctx context.Context, body []byte, h http.Header, clock func() time.Time,
	handler func(context.Context, *Event) error, unreleased func(*Event, *Error)) Outcome {
	switch {
	case r == nil || r.handle == nil:
		panic("anchorwebhooks: Receive: the Receiver is nil or zero (make it with NewReceiver)")
	case handler == nil:
		panic("anchorwebhooks: Receive: the handler is nil")
	}
	claimedAt, refused := clockMillis(clock())
	if refused != nil {
		return errorOutcome(nil, refused)
	}
	turnDone, full := r.store.turn(claimCall, 0)
	if full != 0 {
		// The store's calls are all taken (Redis slow or hung): verify anyway, so a forgery is still refused
		// as one.
		if _, err := r.verifier.VerifyAt(body, h, clock()); errors.As(err, &refused) {
			return errorOutcome(nil, refused)
		}
		return errorOutcome(nil, r.store.busy(full))
	}
	p := pack(h)
	defer p.release()
	out := outputFor(body, p, r.verifier.bodyLimit())
	var claim *C.anchor_event
	code := C.go_receive(r.handle.pointer(), bytesPtr(p.bytes), lensPtr(p.lens), p.count(), bytesPtr(body),
		C.size_t(len(body)), claimedAt, bytesPtr(out), C.size_t(len(out)), &p.res, &claim)
	turnDone()
	runtime.KeepAlive(r.handle)
	if code != C.ANCHOR_RESULT_OK {
		errors.As(failure(code, out, &p.res), &refused)
		return errorOutcome(nil, refused)
	}
	event := eventFrom(out, &p.res, body)
	switch p.res.reception {
	case C.ANCHOR_RECEPTION_DUPLICATE:
		return Outcome{Kind: OutcomeDuplicate, Status: http.StatusOK, Event: event}
	case C.ANCHOR_RECEPTION_IN_PROGRESS:
		return Outcome{Kind: OutcomeInProgress, Status: http.StatusServiceUnavailable, Event: event,
			RetryAfter: retryAfterDuration}
	}
	return r.runFresh(ctx, event, claim, p, clock, handler, unreleased)
}

// clockMillis is now in unix milliseconds for the library; a time before 1970 (a zero time.Time, most
// likely) is refused, and one beyond what milliseconds in an int64 reach is taken as the last of them.
func clockMillis(now time.Time) (C.uint64_t, *Error) {
	if refused := checkClock(now); refused != nil {
		return 0, refused
	}
	if latest := time.UnixMilli(1<<63 - 1); now.After(latest) {
		now = latest
	}
	return C.uint64_t(now.UnixMilli()), nil
}

// checkClock refuses a receiver's clock before 1970: the library counts time from then, and a zero
// time.Time would otherwise read as a delivery decades old.
func checkClock(now time.Time) *Error {
	if now.Before(time.Unix(0, 0)) {
		return invalidArgument(fmt.Sprintf("now (%s) is before 1970: pass the time the delivery was received, "+
			"such as time.Now()", now.UTC().Format(time.RFC3339)))
	}
	return nil
}

// runFresh runs handler for a claimed event, then completes or releases the claim (also when handler
// panics: the claim is released and the panic goes on). p is the call's state, whose scratch and result
// receive the store's messages (the event copied out what it needs).
func (r *Receiver) runFresh(ctx context.Context, event *Event, claim *C.anchor_event, p *callState,
	clock func() time.Time, handler func(context.Context, *Event) error, unreleased func(*Event, *Error)) (outcome Outcome) {
	returned := false
	var handlerErr error
	defer func() {
		succeeded := returned && handlerErr == nil
		done, storeErr := r.settle(claim, succeeded, p, clock)
		C.anchor_event_free(claim)
		runtime.KeepAlive(r.handle)
		switch {
		case !returned:
			// Panicking (or runtime.Goexit): the release was tried; the panic goes on.
			if storeErr != nil && unreleased != nil {
				unreleased(event, storeErr)
			}
		case succeeded && storeErr != nil:
			// The core's Outcome::after_handler: the handler ran unrecorded (the message says so), 503.
			outcome = errorOutcome(event, storeErr)
		case succeeded:
			outcome = Outcome{Kind: OutcomeProcessed, Status: http.StatusOK, Event: event}
			if !done {
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
	handlerErr = handler(ctx, event)
	returned = true
	return Outcome{}
}

// settle completes (succeeded) or releases the claim, in one of the store's call slots: done is false when
// the claim had been lost meanwhile (its message then in p), storeErr the store's failure, or the busy
// error when no slot came in time.
func (r *Receiver) settle(claim *C.anchor_event, succeeded bool, p *callState, clock func() time.Time) (done bool,
	storeErr *Error) {
	// The handler ran: its end waits for a turn as long as the claim can last (waiting holds no thread), so a
	// slow Redis or a burst of deliveries delays the record instead of losing it.
	turnDone, full := r.store.turn(settleCall, r.lease)
	if full != 0 {
		return false, r.store.busySettle(claim, succeeded, full)
	}
	defer turnDone()
	// The clock was checked when the claim was taken; a fixed one has not moved since.
	now, _ := clockMillis(clock())
	var cDone C.bool
	p.res = C.go_result{}
	scratch, capacity := p.scratchPtr()
	var code C.anchor_result
	if succeeded {
		// OK with done false: the lease ran out and another delivery took the claim over.
		code = C.go_complete(r.handle.pointer(), claim, now, scratch, capacity, &p.res, &cDone)
	} else {
		code = C.go_release(r.handle.pointer(), claim, now, scratch, capacity, &p.res, &cDone)
	}
	runtime.KeepAlive(r.handle)
	if code != C.ANCHOR_RESULT_OK {
		errors.As(failure(code, p.scratch[:], &p.res), &storeErr)
	}
	return bool(cDone), storeErr
}

// SenderRetries is the core's rule for whether the sender retries a delivery answered status: 3xx (redirects
// are not followed), 408, 429, 5xx, and anything outside 2xx and 4xx. An integration whose handler answers
// the delivery itself returns an error to Receive for such a status, so the claim is released and the
// retry runs the handler again (completing it would answer that retry "duplicate" and lose the event);
// any other status completes it.
func SenderRetries(status int) bool {
	if status < 0 || status > 0xFFFF {
		return true
	}
	return bool(C.anchor_sender_retries(C.uint16_t(status)))
}
