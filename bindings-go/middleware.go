package anchorwebhooks

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
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
	receiver   *Receiver
	handler    http.Handler
	claimLost  func(*http.Request, *Event, string)
	rejected   func(*http.Request, *Error)
	unrecorded func(*http.Request, *Event, int, *Error)
}

// DefaultLease is how long the claim on a fresh event lasts when WithLease is not given: 30 s.
const DefaultLease = 30 * time.Second

type middlewareConfig struct {
	lease      time.Duration
	claimLost  func(*http.Request, *Event, string)
	rejected   func(*http.Request, *Error)
	unrecorded func(*http.Request, *Event, int, *Error)
}

// MiddlewareOption configures Middleware: WithLease, WithClaimLost, WithRejected, WithUnrecorded. A nil
// option is skipped.
type MiddlewareOption interface {
	applyToMiddleware(*middlewareConfig)
}

type middlewareOption func(*middlewareConfig)

func (o middlewareOption) applyToMiddleware(c *middlewareConfig) { o(c) }

// WithClaimLost sets what happens when a handler succeeded but its claim had been lost meanwhile (it
// outlasted the lease and another delivery of the event took the claim over, so the handler may have run
// twice). It runs after the handler returned, with its request, its event and the core's warning, the same
// text in every language ("anchor-webhooks: claim lost: the handler of event evt_... outlasted its 30 s
// lease ..."). The default logs that warning through log/slog's default logger; nil keeps the default.
func WithClaimLost(report func(r *http.Request, event *Event, warning string)) MiddlewareOption {
	return middlewareOption(func(c *middlewareConfig) { c.claimLost = report })
}

// WithRejected sets what happens when Middleware refuses a delivery without running the handler: one that
// fails verification (401, 400, 413: final for the sender, so the event is lost unless the cause is fixed),
// an unavailable store (503 store_unavailable) or a body the connection did not deliver (503
// unreadable_body); a store that fails after the handler ran is WithUnrecorded's. It runs before the answer
// is written, with the request and the *Error (Code,
// HTTPStatus, and the core's Message, which never contains a secret, a signature or the body). Duplicates
// and in-progress deliveries are not refusals and are not reported. The default logs one line through
// log/slog's default logger: msg "anchor-webhooks: delivery refused" with status, code, message and the
// request's path (without its query), at level Warn for a 4xx, Error for store_unavailable and Info for
// unreadable_body (the sender retries). nil keeps the default; to log nothing, pass a function that does
// nothing.
func WithRejected(report func(r *http.Request, err *Error)) MiddlewareOption {
	return middlewareOption(func(c *middlewareConfig) { c.rejected = report })
}

// WithUnrecorded sets what happens when the store failed to record a handler's outcome after it ran (or found
// no call slot for it): a complete ("the handler of event evt_... ran, but recording it as done failed
// (...)": a redelivery after the lease runs the handler again) or a release ("the claim on event evt_... was
// not released ...": deliveries of the event are answered in progress until the lease ends), also when the
// handler panicked. The answer is the handler's, already written with status (its status, or 0 when it
// panicked). It runs with the request, the event, that status and the store_unavailable *Error. The default
// logs one line through log/slog's default logger at level Error: msg "anchor-webhooks: handler outcome not
// recorded" with event_id, status (the one answered), code, message and the request's path. nil keeps the
// default.
func WithUnrecorded(report func(r *http.Request, event *Event, status int, err *Error)) MiddlewareOption {
	return middlewareOption(func(c *middlewareConfig) { c.unrecorded = report })
}

// Middleware verifies every request with v, dedupes by event id in store, and runs handler once per
// event, with the verified event in the request's context (EventFromContext) and the body still
// readable. Answers, without running handler unless it says so:
//
//   - verification failed: the code's HTTP status (401 forged or stale, 400 malformed, 413 too large),
//     body {"error":"<code>","message":"<the core's message>"}, reported through WithRejected (by default,
//     a log/slog line);
//   - a duplicate (already processed): 200 {"ok":true,"outcome":"duplicate"};
//   - in progress on another request ({"error":"in_progress"}), or the store unavailable (an error answer
//     as above, reported): 503 with Retry-After, so the sender retries (answering 200 would lose the event
//     if the first request fails);
//   - a fresh event: handler runs. If it answers a status the sender retries (3xx, 408, 429, 5xx: the
//     core's anchor_sender_retries) or panics, or the request was cancelled before it returned (the sender
//     or a proxy gave up and closed the connection) and it neither answered a 2xx after the cancellation
//     nor flushed one before it, the claim is released so the sender's retry runs the handler again; for
//     any other status (2xx, and the 4xx the sender does not retry) the event is marked done and later
//     deliveries are duplicates. The status is the one the handler wrote before returning (200 if it
//     wrote none): a framework that writes its error answer after the handler returns is seen as 200, so
//     write the status (or panic) inside the handler;
//   - a body the connection failed to deliver: 503 unreadable_body with Retry-After; one an
//     http.MaxBytesReader in front stopped: 413 body_too_large (both error answers, reported).
//
// The claim on a fresh event lasts DefaultLease unless WithLease says otherwise; a handler that succeeds
// after its claim was taken over is reported through WithClaimLost (by default, a log/slog warning).
//
// store is a MemoryStore (one process) or a RedisStore (every process and replica of the endpoint). A nil
// verifier, store or handler (or a zero Verifier, MemoryStore or RedisStore) is a programming error: Middleware
// panics naming it, as http.Handle does for a nil handler.
func Middleware(v *Verifier, store Store, handler http.Handler, opts ...MiddlewareOption) http.Handler {
	requireParts("Middleware", v, store)
	if handler == nil {
		panic("anchorwebhooks: Middleware: the handler is nil")
	}
	return newMiddleware("Middleware", v, store, opts)(handler)
}

// Wrap is Middleware in the form routers and chains take middleware in, func(http.Handler) http.Handler (chi's
// Use, gorilla/mux's Use, alice): r.Use(anchorwebhooks.Wrap(verifier, store)). Every handler it wraps answers
// as Middleware does, and they share one receiver. Dedupe is the store's: every Wrap, Middleware and Receiver
// on one store (one RedisStore prefix) dedupes together, so give each endpoint (webhook subscription) a store
// of its own. A nil verifier or store, or a lease under 1 s, panics when Wrap is called; a nil handler when
// it is wrapped.
func Wrap(v *Verifier, store Store, opts ...MiddlewareOption) func(http.Handler) http.Handler {
	return newMiddleware("Wrap", v, store, opts)
}

// newMiddleware checks the options and makes the receiver once (caller is the function named in a panic),
// then wraps each handler it is given.
func newMiddleware(caller string, v *Verifier, store Store, opts []MiddlewareOption) func(http.Handler) http.Handler {
	cfg := middlewareConfig{lease: DefaultLease}
	for _, opt := range opts {
		if opt != nil {
			opt.applyToMiddleware(&cfg)
		}
	}
	if cfg.claimLost == nil {
		cfg.claimLost = logClaimLost(cfg.lease)
	}
	if cfg.rejected == nil {
		cfg.rejected = logRejected
	}
	if cfg.unrecorded == nil {
		cfg.unrecorded = logUnrecorded
	}
	// A lease the core refuses (under 1 s: a retry would take over an event whose handler is still
	// running) is a programming error, reported like NewMemoryStore's: a panic with the core's reason.
	receiver := newReceiver(caller, v, store, cfg.lease)
	return func(handler http.Handler) http.Handler {
		if handler == nil {
			panic("anchorwebhooks: " + caller + ": the handler is nil")
		}
		return &middleware{receiver: receiver, handler: handler, claimLost: cfg.claimLost, rejected: cfg.rejected,
			unrecorded: cfg.unrecorded}
	}
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, refused := readBody(r, m.receiver.verifier.bodyLimit())
	if refused != nil {
		// An http.MaxBytesReader in front (413), or the connection failed mid-body (503: a 4xx would be
		// final for the sender, so ask for a retry).
		m.refuse(w, r, refused)
		return
	}
	answered := 0 // the handler's status once it returned; 0 while it runs or when it panicked
	handle := func(ctx context.Context, event *Event) error {
		recorder := &statusRecorder{ResponseWriter: w, status: http.StatusOK, ctx: ctx}
		var writer http.ResponseWriter = recorder
		if _, ok := w.(http.Flusher); ok {
			writer = flushingRecorder{recorder}
		}
		m.handler.ServeHTTP(writer, r.WithContext(context.WithValue(ctx, eventKey{}, event)))
		answered = recorder.status
		// A status the sender retries (3xx, 408, 429, 5xx: the core's rule, SenderRetries) releases the
		// claim, so that retry runs the handler again; completing would answer it "duplicate" and lose the
		// event. A request cancelled before the handler returned (the sender's or a proxy's timeout, client
		// gone, server shutting down) may have stopped its work: release (at least once, never lost), unless
		// the handler answered a 2xx after the cancellation, its own word that it finished the work anyway
		// (a slow handler outlasting a timeout), or flushed a 2xx before it (an acknowledgement the sender
		// has: it will not retry): complete, so a redelivery is a duplicate, not a second run.
		if SenderRetries(recorder.status) {
			return errRetriedStatus
		}
		if recorder.acknowledged() {
			return nil
		}
		return ctx.Err()
	}
	// A release that fails while the handler panics is reported too (the panic then goes on).
	unreleased := func(event *Event, err *Error) { m.unrecorded(r, event, 0, answeredAlready(err)) }
	outcome := m.receiver.receive(r.Context(), body, r.Header, time.Now, handle, unreleased)
	switch outcome.Kind {
	case OutcomeDuplicate:
		answer(w, http.StatusOK, map[string]any{"ok": true, "outcome": "duplicate"})
	case OutcomeInProgress:
		w.Header().Set("Retry-After", retryAfter)
		answer(w, http.StatusServiceUnavailable, map[string]any{"error": "in_progress"})
	case OutcomeRejected:
		errors.As(outcome.Err, &refused)
		if outcome.HandlerRan() {
			// The store failed to record a handler that ran (its answer is written): the claim ends with its
			// lease, and a redelivery after that runs the handler again. Reported, never silent.
			m.unrecorded(r, outcome.Event, answered, answeredAlready(refused))
			return
		}
		m.refuse(w, r, refused)
	case OutcomeProcessed:
		if outcome.ClaimLost != "" {
			m.claimLost(r, outcome.Event, outcome.ClaimLost)
		}
	case OutcomeHandlerFailed:
		if errors.As(outcome.ReleaseErr, &refused) {
			m.unrecorded(r, outcome.Event, answered, answeredAlready(refused))
		}
	}
}

// answeredAlready is err without the core's advice to answer 503: Middleware reports it after the handler's
// answer was written.
func answeredAlready(err *Error) *Error {
	return err.withMessage(strings.TrimSuffix(err.Message, "; answer 503 so the sender retries"))
}

// errRetriedStatus is the handler's failure, to Receive, when it answered a status the sender retries.
var errRetriedStatus = errors.New("the handler answered a status the sender retries")

// refuse reports a refused delivery through WithRejected's function, then answers it: the code's status,
// {"error":"<code>","message":"<message>"}, and Retry-After on a 503.
func (m *middleware) refuse(w http.ResponseWriter, r *http.Request, refused *Error) {
	m.rejected(r, refused)
	if refused.HTTPStatus == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfter)
	}
	answer(w, refused.HTTPStatus, refusalAnswer{Error: refused.Code, Message: refused.Message})
}

// refusalAnswer is the JSON body of a refusal (the fields in this order).
type refusalAnswer struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// statusRecorder remembers the status the handler answered with, whether its request (ctx) was cancelled
// already when the status was set, and whether the answer was flushed while the request was live.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	written     bool
	ctx         context.Context
	afterCancel bool
	flushedLive bool
}

// setStatus records the status the first write makes final (an informational 1xx, such as 103 Early
// Hints, comes before it and is not the answer).
func (s *statusRecorder) setStatus(status int) {
	if !s.written && status >= 200 {
		s.status, s.written, s.afterCancel = status, true, s.ctx.Err() != nil
	}
}

// acknowledged: the handler answered a 2xx after its request was cancelled, or flushed one to the sender
// before that.
func (s *statusRecorder) acknowledged() bool {
	return s.written && (s.afterCancel || s.flushedLive) && s.status >= 200 && s.status <= 299
}

func (s *statusRecorder) WriteHeader(status int) {
	s.setStatus(status)
	s.ResponseWriter.WriteHeader(status)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.setStatus(http.StatusOK)
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer (Flush, Hijack, deadlines).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// flushingRecorder is the statusRecorder over a writer that flushes, so a handler's w.(http.Flusher)
// works as it does without Middleware (a writer that cannot flush does not get one that pretends to).
type flushingRecorder struct{ *statusRecorder }

// Flush sends what was written so far; the status is then final (200 unless set before).
func (f flushingRecorder) Flush() {
	f.setStatus(http.StatusOK)
	if f.ctx.Err() == nil {
		f.flushedLive = true
	}
	f.ResponseWriter.(http.Flusher).Flush()
}

// logClaimLost is WithClaimLost's default: the core's warning through log/slog, with the event id and
// the lease as attributes for structured handlers.
func logClaimLost(lease time.Duration) func(*http.Request, *Event, string) {
	return func(r *http.Request, event *Event, warning string) {
		slog.Default().LogAttrs(r.Context(), slog.LevelWarn, warning,
			slog.String("event_id", event.ID), slog.Duration("lease", lease))
	}
}

// logRejected is WithRejected's default: one log/slog line per refused delivery, at Info for a forged, stale
// or malformed request and for a body the connection did not deliver (anyone can send those, so they are
// routine, as in the Python package), Warn for invalid_payload (signed, so from the sender, but unusable: the
// event is lost), Error for an unavailable store (every new delivery is refused until it has room). The path
// has no query string (it may carry a token).
func logRejected(r *http.Request, refused *Error) {
	level := slog.LevelInfo
	switch refused.Code {
	case CodeStoreUnavailable:
		level = slog.LevelError
	case CodeInvalidPayload:
		level = slog.LevelWarn
	}
	slog.Default().LogAttrs(r.Context(), level, "anchor-webhooks: delivery refused",
		slog.Int("status", refused.HTTPStatus), slog.String("code", refused.Code),
		slog.String("message", refused.Message), slog.String("path", r.URL.Path))
}

// logUnrecorded is WithUnrecorded's default: one log/slog line at level Error, naming the event and the
// status its handler answered.
func logUnrecorded(r *http.Request, event *Event, status int, err *Error) {
	slog.Default().LogAttrs(r.Context(), slog.LevelError, "anchor-webhooks: handler outcome not recorded",
		slog.String("event_id", event.ID), slog.Int("status", status), slog.String("code", err.Code),
		slog.String("message", err.Message), slog.String("path", r.URL.Path))
}

func answer(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	encoder := json.NewEncoder(w)
	encoder.SetEscapeHTML(false) // messages show `t=<unix seconds>` as written, not as \u003c
	_ = encoder.Encode(body)
}
