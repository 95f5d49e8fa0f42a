package anchorwebhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// signed is a delivery of event id signed with testSecret at timestamp.
func signed(t *testing.T, id string, timestamp int64) ([]byte, http.Header) {
	t.Helper()
	body := envelope(id, "task.completed")
	h, err := Sign([]string{testSecret}, body, timestamp)
	if err != nil {
		t.Fatal(err)
	}
	return body, h
}

// outcomeOf is the comparable part of an Outcome: kind, status, Retry-After, the event's id ("" without one).
func outcomeOf(o Outcome) string {
	id := ""
	if o.Event != nil {
		id = o.Event.ID
	}
	return fmt.Sprintf("%s %d retry-after=%s event=%q", o.Kind, o.Status, o.RetryAfter, id)
}

func TestReceiverOutcomes(t *testing.T) {
	ctx := context.Background()
	v, _ := NewVerifier([]string{testSecret})
	r := NewReceiver(v, NewMemoryStore())
	if r.Verifier() != v || r.Lease() != DefaultLease || r.Store() == nil {
		t.Fatalf("accessors: %v %v %v", r.Verifier(), r.Lease(), r.Store())
	}
	var runs atomic.Int32
	ok := func(context.Context, *Event) error { runs.Add(1); return nil }
	body, h := signed(t, "evt_receiver_fresh", time.Now().Unix())

	check := func(name string, got Outcome, want string, wantRuns int32) {
		t.Helper()
		if outcomeOf(got) != want || runs.Load() != wantRuns {
			t.Errorf("%s: %s (%d runs), want %s (%d runs)", name, outcomeOf(got), runs.Load(), want, wantRuns)
		}
	}
	first := r.Receive(ctx, body, h, ok)
	check("fresh", first, `processed 200 retry-after=0s event="evt_receiver_fresh"`, 1)
	if first.Err != nil || first.ClaimLost != "" || first.ReleaseErr != nil || first.Event.Type != EventTaskCompleted {
		t.Errorf("fresh: %+v", first)
	}
	check("duplicate", r.Receive(ctx, body, h, ok), `duplicate 200 retry-after=0s event="evt_receiver_fresh"`, 1)

	forged, _ := Sign([]string{"not-the-secret"}, body, time.Now().Unix())
	rejected := r.Receive(ctx, body, forged, ok)
	check("forged", rejected, `rejected 401 retry-after=0s event=""`, 1)
	if !errors.Is(rejected.Err, ErrSignatureMismatch) {
		t.Errorf("forged: %v", rejected.Err)
	}

	// A failed handler releases the claim: the retry runs it again, and its success completes the event.
	failing, fh := signed(t, "evt_receiver_fails", time.Now().Unix())
	cause := errors.New("database down")
	failed := r.Receive(ctx, failing, fh, func(context.Context, *Event) error { runs.Add(1); return fmt.Errorf("saving: %w", cause) })
	check("handler failed", failed, `handler_failed 500 retry-after=0s event="evt_receiver_fails"`, 2)
	if !errors.Is(failed.Err, cause) || failed.ReleaseErr != nil {
		t.Errorf("handler failed: %+v", failed)
	}
	check("retry after a failure", r.Receive(ctx, failing, fh, ok), `processed 200 retry-after=0s event="evt_receiver_fails"`, 3)

	// A panicking handler releases the claim too; the panic goes on as it was.
	panicking, ph := signed(t, "evt_receiver_panics", time.Now().Unix())
	func() {
		defer func() {
			if got := recover(); got != "handler bug" {
				t.Errorf("the handler's panic: %v", got)
			}
		}()
		r.Receive(ctx, panicking, ph, func(context.Context, *Event) error { runs.Add(1); panic("handler bug") })
		t.Error("Receive returned after its handler panicked")
	}()
	check("retry after a panic", r.Receive(ctx, panicking, ph, ok), `processed 200 retry-after=0s event="evt_receiver_panics"`, 5)

	// While a handler runs, another delivery of the event is in progress: 503 with Retry-After.
	slow, sh := signed(t, "evt_receiver_slow", time.Now().Unix())
	started, finish := make(chan struct{}), make(chan struct{})
	done := make(chan Outcome)
	go func() {
		done <- r.Receive(ctx, slow, sh, func(context.Context, *Event) error { close(started); <-finish; return nil })
	}()
	<-started
	check("in progress", r.Receive(ctx, slow, sh, ok), `in_progress 503 retry-after=5s event="evt_receiver_slow"`, 5)
	close(finish)
	check("the slow one", <-done, `processed 200 retry-after=0s event="evt_receiver_slow"`, 5)
}

// ReceiveAt fixes the clock of the verification, the claim and its end: a stale delivery is refused as such,
// and a handler that outlasts its lease (a retry took the event over) is Processed with the core's warning.
func TestReceiveAtAndTheLostClaim(t *testing.T) {
	ctx := context.Background()
	v, _ := NewVerifier([]string{testSecret})
	r := NewReceiver(v, NewMemoryStore(), WithLease(time.Second))
	signedAt := time.Unix(1_900_000_000, 0)
	body, h := signed(t, "evt_receive_at", signedAt.Unix())

	stale := r.ReceiveAt(ctx, body, h, signedAt.Add(301*time.Second), func(context.Context, *Event) error { return nil })
	if outcomeOf(stale) != `rejected 401 retry-after=0s event=""` || !errors.Is(stale.Err, ErrTimestampTooOld) {
		t.Errorf("stale: %s %v", outcomeOf(stale), stale.Err)
	}

	var retried Outcome
	first := r.ReceiveAt(ctx, body, h, signedAt, func(context.Context, *Event) error {
		// The retry arrives 2 s later: the 1 s lease has run out, so it takes the event over and runs.
		retried = r.ReceiveAt(ctx, body, h, signedAt.Add(2*time.Second), func(context.Context, *Event) error { return nil })
		return nil
	})
	if outcomeOf(retried) != `processed 200 retry-after=0s event="evt_receive_at"` || retried.ClaimLost != "" {
		t.Errorf("the retry: %s %q", outcomeOf(retried), retried.ClaimLost)
	}
	if outcomeOf(first) != `processed 200 retry-after=0s event="evt_receive_at"` ||
		first.ClaimLost != claimLostWarning("evt_receive_at", "1 s") {
		t.Errorf("the first: %s %q", outcomeOf(first), first.ClaimLost)
	}
	if again := r.ReceiveAt(ctx, body, h, signedAt.Add(3*time.Second), func(context.Context, *Event) error { return nil }); again.Kind != OutcomeDuplicate {
		t.Errorf("after both: %s", outcomeOf(again))
	}
}

func TestNewReceiverRefusesMissingParts(t *testing.T) {
	ctx := context.Background()
	v, _ := NewVerifier([]string{testSecret})
	panicsWith := func(name, want string, call func()) {
		t.Helper()
		defer func() {
			if got := fmt.Sprint(recover()); got != want {
				t.Errorf("%s: panicked with %q, want %q", name, got, want)
			}
		}()
		call()
	}
	panicsWith("nil verifier", "anchorwebhooks: NewReceiver: the verifier is nil (make it with NewVerifier)",
		func() { NewReceiver(nil, NewMemoryStore()) })
	panicsWith("zero verifier", "anchorwebhooks: NewReceiver: the verifier is nil (make it with NewVerifier)",
		func() { NewReceiver(&Verifier{}, NewMemoryStore()) })
	panicsWith("nil store", "anchorwebhooks: NewReceiver: the store is nil (make it with NewMemoryStore or NewRedisStore)",
		func() { NewReceiver(v, nil) })
	panicsWith("zero store", "anchorwebhooks: NewReceiver: the store is nil (make it with NewMemoryStore or NewRedisStore)",
		func() { NewReceiver(v, &RedisStore{}) })
	panicsWith("short lease", "anchorwebhooks: NewReceiver(WithLease(999ms)): invalid_argument: the lease must be at least 1 s: "+
		"a shorter lease expires under a running handler, and a retry would run it a second time alongside (the default is 30 s)",
		func() { NewReceiver(v, NewMemoryStore(), WithLease(999*time.Millisecond)) })
	r := NewReceiver(v, NewMemoryStore())
	body, h := signed(t, "evt_no_handler", time.Now().Unix())
	panicsWith("nil handler", "anchorwebhooks: Receive: the handler is nil", func() { r.Receive(ctx, body, h, nil) })
	none := func(context.Context, *Event) error { return nil }
	panicsWith("nil Receiver", "anchorwebhooks: Receive: the Receiver is nil or zero (make it with NewReceiver)",
		func() { (*Receiver)(nil).Receive(ctx, body, h, none) })
	panicsWith("zero Receiver", "anchorwebhooks: Receive: the Receiver is nil or zero (make it with NewReceiver)",
		func() { (&Receiver{}).Receive(ctx, body, h, none) })
	// A clock before 1970 (a zero time.Time) is no clock: refused by name, not read as a delivery decades old.
	for _, now := range []time.Time{{}, time.Unix(-1, 0)} {
		o := r.ReceiveAt(ctx, body, h, now, none)
		_, verifyErr := v.VerifyAt(body, h, now)
		_, signatureErr := v.VerifySignatureAt(body, h, now)
		want := "anchor-webhooks: now (" + now.UTC().Format(time.RFC3339) + ") is before 1970: pass the time the " +
			"delivery was received, such as time.Now()"
		for _, err := range []error{o.Err, verifyErr, signatureErr} {
			if !errors.Is(err, ErrInvalidArgument) || err.Error() != want {
				t.Errorf("clock %v: %v", now, err)
			}
		}
		if o.Kind != OutcomeRejected || o.Event != nil {
			t.Errorf("clock %v: %s", now, outcomeOf(o))
		}
	}
	// Past the milliseconds an int64 holds: the latest of them, not a wrapped-around past. The core's guesses
	// about a wrong unit are reworded: a time.Time has none.
	if o := r.ReceiveAt(ctx, body, h, time.Unix(1<<62, 0), none); !errors.Is(o.Err, ErrTimestampTooOld) ||
		!strings.HasSuffix(o.Err.Error(), "(the clock passed is centuries ahead: check the time given to VerifyAt or ReceiveAt)") {
		t.Errorf("a far future clock: %s %v", outcomeOf(o), o.Err)
	}
	if _, err := v.VerifyAt(body, h, time.Unix(1, 0)); !errors.Is(err, ErrTimestampTooNew) ||
		!strings.HasSuffix(err.Error(), "(the receiver's clock and the sender's are decades apart: check the time "+
			"given to VerifyAt or ReceiveAt, or the sender's clock)") {
		t.Errorf("a clock in 1970: %v", err)
	}
	// The nil handler was refused before any claim: the event is still fresh.
	if o := r.Receive(ctx, body, h, func(context.Context, *Event) error { return nil }); o.Kind != OutcomeProcessed {
		t.Errorf("after the nil handler: %s", outcomeOf(o))
	}
}

// With Redis: a store that fails after the handler ran is a rejected outcome that carries the event (the
// handler ran unrecorded, 503), a failed release is ReleaseErr beside the handler's error, and a store with
// no free call is store_unavailable after verification (a forgery is still refused as one).
func TestReceiverWithAFailingRedis(t *testing.T) {
	ctx := context.Background()
	server := startRedis(t, 0)
	t.Cleanup(func() { _ = server.cmd.Process.Signal(syscall.SIGCONT) })
	v, _ := NewVerifier([]string{testSecret})
	store := newRedisStore(t, server.url(), fmt.Sprintf("go-receiver-%d", time.Now().UnixNano()),
		WithRedisTimeout(300*time.Millisecond), WithRedisMaxConcurrentCalls(1))
	// A settle waits for a call slot as long as the lease: 1 s here.
	r := NewReceiver(v, store, WithLease(time.Second))
	hang := func(context.Context, *Event) error { return server.cmd.Process.Signal(syscall.SIGSTOP) }

	body, h := signed(t, "evt_receiver_unrecorded", time.Now().Unix())
	unrecorded := r.Receive(ctx, body, h, hang)
	_ = server.cmd.Process.Signal(syscall.SIGCONT)
	want := "dedupe store unavailable: the handler of event evt_receiver_unrecorded ran, but recording it as done " +
		"failed (redis: timed out); a retry after the lease runs it again; answer 503 so the sender retries"
	var refused *Error
	if outcomeOf(unrecorded) != `rejected 503 retry-after=5s event="evt_receiver_unrecorded"` ||
		!errors.As(unrecorded.Err, &refused) || refused.Code != CodeStoreUnavailable || refused.Message != want {
		t.Errorf("a failed complete: %s %v", outcomeOf(unrecorded), unrecorded.Err)
	}

	failing, fh := signed(t, "evt_receiver_unreleased", time.Now().Unix())
	cause := errors.New("handler failed")
	unreleased := r.Receive(ctx, failing, fh, func(ctx context.Context, e *Event) error { _ = hang(ctx, e); return cause })
	_ = server.cmd.Process.Signal(syscall.SIGCONT)
	if outcomeOf(unreleased) != `handler_failed 500 retry-after=0s event="evt_receiver_unreleased"` ||
		!errors.Is(unreleased.Err, cause) || !errors.Is(unreleased.ReleaseErr, ErrStoreUnavailable) {
		t.Errorf("a failed release: %s %v %v", outcomeOf(unreleased), unreleased.Err, unreleased.ReleaseErr)
	}

	// A complete and a release that find the store's one call slot taken (the handler holds it here) are not
	// sent: the complete is rejected as unrecorded, with the busy reason; the release is a ReleaseErr.
	busyReason := "redis: the one thread calling Redis was busy for longer than the 300 ms timeout, so this call " +
		"was not sent (Redis is slow or unreachable)"
	var held func()
	holdTheSlot := func(context.Context, *Event) error {
		var full int
		if held, full = store.turn(settleCall, 0); full != 0 {
			t.Error("no call slot for the handler")
		}
		return nil
	}
	noSlotBody, noSlotH := signed(t, "evt_receiver_no_slot", time.Now().Unix())
	noSlot := r.Receive(ctx, noSlotBody, noSlotH, holdTheSlot)
	held()
	if outcomeOf(noSlot) != `rejected 503 retry-after=5s event="evt_receiver_no_slot"` || !errors.As(noSlot.Err, &refused) ||
		refused.Message != "dedupe store unavailable: the handler of event evt_receiver_no_slot ran, but recording it as "+
			"done failed ("+busyReason+"); a retry after the lease runs it again; answer 503 so the sender retries" {
		t.Errorf("a complete with no slot: %s %v", outcomeOf(noSlot), noSlot.Err)
	}
	failingBody, failingH := signed(t, "evt_receiver_no_slot_failing", time.Now().Unix())
	noSlot = r.Receive(ctx, failingBody, failingH, func(ctx context.Context, e *Event) error {
		_ = holdTheSlot(ctx, e)
		return cause
	})
	held()
	if outcomeOf(noSlot) != `handler_failed 500 retry-after=0s event="evt_receiver_no_slot_failing"` ||
		!errors.Is(noSlot.Err, cause) || !errors.As(noSlot.ReleaseErr, &refused) ||
		refused.Message != "dedupe store unavailable: the claim on event evt_receiver_no_slot_failing was not released "+
			"after its handler failed ("+busyReason+"); it ends with its lease, and deliveries of the event until then "+
			"are answered in progress; answer 503 so the sender retries" {
		t.Errorf("a release with no slot: %s %v %v", outcomeOf(noSlot), noSlot.Err, noSlot.ReleaseErr)
	}

	// With the store's one call held, a delivery finds no turn.
	done, full := store.turn(claimCall, 0)
	if full != 0 {
		t.Fatal("no turn on an idle store")
	}
	defer done()
	busy := r.Receive(ctx, body, h, func(context.Context, *Event) error { t.Error("ran without a claim"); return nil })
	if outcomeOf(busy) != `rejected 503 retry-after=5s event=""` || !errors.Is(busy.Err, ErrStoreUnavailable) {
		t.Errorf("no turn: %s %v", outcomeOf(busy), busy.Err)
	}
	forged, _ := Sign([]string{"not-the-secret"}, body, time.Now().Unix())
	if o := r.Receive(ctx, body, forged, func(context.Context, *Event) error { return nil }); !errors.Is(o.Err, ErrSignatureMismatch) {
		t.Errorf("a forgery with no turn: %s %v", outcomeOf(o), o.Err)
	}
}

// A Receiver copied by value shares the library's receiver with the original: dropping the original (and
// collecting it) leaves the copy working.
func TestReceiverCopiesOutliveTheOriginal(t *testing.T) {
	v, _ := NewVerifier([]string{testSecret})
	type service struct{ receiver Receiver }
	s := &service{receiver: *NewReceiver(v, NewMemoryStore())}
	for i := 0; i < 5; i++ {
		NewReceiver(v, NewMemoryStore()) // garbage for the collector to run on
		runtime.GC()
	}
	for i := 0; i < 3; i++ {
		body, h := signed(t, fmt.Sprintf("evt_copied_%d", i), time.Now().Unix())
		if o := s.receiver.Receive(context.Background(), body, h, func(context.Context, *Event) error { return nil }); o.Kind != OutcomeProcessed {
			t.Fatalf("the copy: %s %v", outcomeOf(o), o.Err)
		}
		runtime.GC()
	}
}

// The handler's context is the one given to Receive.
func TestReceiveHandsItsContextToTheHandler(t *testing.T) {
	v, _ := NewVerifier([]string{testSecret})
	r := NewReceiver(v, NewMemoryStore())
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, "the caller's")
	body, h := signed(t, "evt_context", time.Now().Unix())
	var seen any
	r.Receive(ctx, body, h, func(ctx context.Context, _ *Event) error { seen = ctx.Value(key{}); return nil })
	if seen != "the caller's" {
		t.Errorf("the handler's context carried %v", seen)
	}
}

// Middleware reports a release that fails while its handler panics (the panic then goes on, as net/http
// expects): the one store failure Receive's Outcome cannot carry.
func TestMiddlewareReportsAFailedReleaseUnderAPanic(t *testing.T) {
	server := startRedis(t, 0)
	v, _ := NewVerifier([]string{testSecret})
	store := newRedisStore(t, server.url(), fmt.Sprintf("go-panic-release-%d", time.Now().UnixNano()),
		WithRedisTimeout(300*time.Millisecond), WithRedisMaxConcurrentCalls(1))
	var held func()
	var reported []string
	m := Middleware(v, store, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		held, _ = store.turn(settleCall, 0) // the release will find no call slot
		panic("handler bug")
	}), WithLease(time.Second), WithUnrecorded(func(r *http.Request, event *Event, status int, err *Error) {
		reported = append(reported, fmt.Sprintf("%s %d %s: %s", event.ID, status, err.Code, err.Message))
	}))
	body, h := signed(t, "evt_panic_unreleased", time.Now().Unix())
	request := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(body))
	request.Header = h
	func() {
		defer func() {
			if got := recover(); got != "handler bug" {
				t.Errorf("the handler's panic: %v", got)
			}
		}()
		m.ServeHTTP(httptest.NewRecorder(), request)
	}()
	held()
	want := "evt_panic_unreleased 0 store_unavailable: dedupe store unavailable: the claim on event evt_panic_unreleased " +
		"was not released after its handler failed (redis: the one thread calling Redis was busy for longer than the " +
		"300 ms timeout, so this call was not sent (Redis is slow or unreachable)); it ends with its lease, and " +
		"deliveries of the event until then are answered in progress"
	if len(reported) != 1 || reported[0] != want {
		t.Errorf("reported: %q", reported)
	}
}

// Completes and releases have call slots of their own: with every claim slot taken (new deliveries waiting on a
// slow Redis), a handler that ran is still recorded. A Check takes a claim slot, and finds none the same way.
// Every turn taken is given back, the process-wide ones included.
func TestSettlesAndChecksHaveTheirOwnSlots(t *testing.T) {
	ctx := context.Background()
	server := startRedis(t, 0)
	v, _ := NewVerifier([]string{testSecret})
	store := newRedisStore(t, server.url(), fmt.Sprintf("go-slots-%d", time.Now().UnixNano()),
		WithRedisTimeout(300*time.Millisecond), WithRedisMaxConcurrentCalls(1))
	r := NewReceiver(v, store)
	body, h := signed(t, "evt_slots", time.Now().Unix())
	var heldClaims func()
	o := r.Receive(ctx, body, h, func(context.Context, *Event) error {
		var full int
		if heldClaims, full = store.turn(claimCall, 0); full != 0 { // the claim's own turn was given back before the handler
			t.Error("no claim slot for the handler")
		}
		return nil
	})
	if o.Kind != OutcomeProcessed || !o.HandlerRan() {
		t.Errorf("the complete, with every claim slot taken: %s %v", outcomeOf(o), o.Err)
	}
	start := time.Now()
	err := store.Check()
	busy := "anchor-webhooks: store_unavailable: redis: the one thread calling Redis was busy for longer than " +
		"the 300 ms timeout, so this call was not sent (Redis is slow or unreachable)"
	if !errors.Is(err, ErrStoreUnavailable) || err.Error() != busy || time.Since(start) < 300*time.Millisecond {
		t.Errorf("Check with every claim slot taken: %v after %v", err, time.Since(start))
	}
	heldClaims()
	if err := store.Check(); err != nil {
		t.Errorf("Check with a free slot: %v", err)
	}
	if again := r.Receive(ctx, body, h, func(context.Context, *Event) error { return nil }); again.Kind != OutcomeDuplicate {
		t.Errorf("after: %s", outcomeOf(again))
	}
	if len(store.claims) != 0 || len(store.settles) != 0 || len(processClaims) != 0 || len(processSettles) != 0 {
		t.Errorf("turns not given back: %d claims, %d settles, %d and %d in the process", len(store.claims),
			len(store.settles), len(processClaims), len(processSettles))
	}
}

// Middleware's default report of a store that failed after the handler: one log/slog line at Error, naming
// the event and the status the handler answered, not a "delivery refused".
func TestUnrecordedIsLoggedByDefault(t *testing.T) {
	logged := captureDefaultLog(t, slog.LevelInfo)
	server := startRedis(t, 0)
	v, _ := NewVerifier([]string{testSecret})
	store := newRedisStore(t, server.url(), fmt.Sprintf("go-unrecorded-log-%d", time.Now().UnixNano()),
		WithRedisTimeout(300*time.Millisecond), WithRedisMaxConcurrentCalls(1))
	var held func()
	m := Middleware(v, store, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		held, _ = store.turn(settleCall, 0) // the complete will find no call slot
		w.WriteHeader(http.StatusAccepted)
	}), WithLease(time.Second))
	body, h := signed(t, "evt_unrecorded_log", time.Now().Unix())
	request := httptest.NewRequest(http.MethodPost, "/hooks?token=secret", bytes.NewReader(body))
	request.Header = h
	recorder := httptest.NewRecorder()
	m.ServeHTTP(recorder, request)
	held()
	want := `level=ERROR msg="anchor-webhooks: handler outcome not recorded" event_id=evt_unrecorded_log status=202 ` +
		`code=store_unavailable message="dedupe store unavailable: the handler of event evt_unrecorded_log ran, but ` +
		`recording it as done failed (redis: the one thread calling Redis was busy for longer than the 300 ms timeout, ` +
		`so this call was not sent (Redis is slow or unreachable)); a retry after the lease runs it again" path=/hooks` + "\n"
	if recorder.Code != http.StatusAccepted || logged.String() != want {
		t.Errorf("answered %d, logged:\n%s\nwant:\n%s", recorder.Code, logged, want)
	}
}

// Nil options are skipped; the getters of a nil Receiver answer zero values.
func TestNilOptionsAndANilReceiversGetters(t *testing.T) {
	v, _ := NewVerifier([]string{testSecret})
	var noOption ReceiverOption
	if r := NewReceiver(v, NewMemoryStore(), noOption, WithLease(time.Minute), nil); r.Lease() != time.Minute {
		t.Errorf("lease %v", r.Lease())
	}
	var noMiddlewareOption MiddlewareOption
	if m := Middleware(v, NewMemoryStore(), http.NotFoundHandler(), noMiddlewareOption).(*middleware); m.receiver.Lease() != DefaultLease {
		t.Errorf("middleware lease %v", m.receiver.Lease())
	}
	var r *Receiver
	if r.Verifier() != nil || r.Store() != nil || r.Lease() != 0 {
		t.Error("a nil Receiver's getters")
	}
	if (Outcome{Kind: OutcomeDuplicate}).HandlerRan() || (Outcome{Kind: OutcomeRejected}).HandlerRan() ||
		!(Outcome{Kind: OutcomeRejected, Event: &Event{}}).HandlerRan() || !(Outcome{Kind: OutcomeHandlerFailed}).HandlerRan() {
		t.Error("HandlerRan")
	}
}

// A complete waits for a call slot as long as the lease (waiting holds no thread), not only the store's
// timeout: a burst of deliveries on a slow Redis delays the record of a handler that ran instead of losing it.
// When the process-wide bound is the one full, the message says so.
func TestASettleWaitsForASlotAsLongAsTheLease(t *testing.T) {
	ctx := context.Background()
	server := startRedis(t, 0)
	v, _ := NewVerifier([]string{testSecret})
	store := newRedisStore(t, server.url(), fmt.Sprintf("go-settle-wait-%d", time.Now().UnixNano()),
		WithRedisTimeout(200*time.Millisecond), WithRedisMaxConcurrentCalls(1))
	r := NewReceiver(v, store, WithLease(3*time.Second))
	body, h := signed(t, "evt_settle_waits", time.Now().Unix())
	o := r.Receive(ctx, body, h, func(context.Context, *Event) error {
		held, full := store.turn(settleCall, 0)
		if full != 0 {
			t.Error("no settle slot for the handler")
			return nil
		}
		time.AfterFunc(time.Second, held) // five timeouts, well within the lease
		return nil
	})
	if o.Kind != OutcomeProcessed {
		t.Errorf("a complete that waited 1 s for its slot: %s %v", outcomeOf(o), o.Err)
	}
	// Every process-wide claim turn taken: the store's own turn is free, the process's is not.
	for i := 0; i < cap(processClaims); i++ {
		processClaims <- struct{}{}
	}
	defer func() {
		for i := 0; i < cap(processClaims); i++ {
			<-processClaims
		}
	}()
	fresh, fh := signed(t, "evt_process_full", time.Now().Unix())
	busy := r.Receive(ctx, fresh, fh, func(context.Context, *Event) error { t.Error("ran without a claim"); return nil })
	want := "dedupe store unavailable: redis: all 2048 threads calling Redis were busy for longer than the 200 ms " +
		"timeout, so this call was not sent (Redis is slow or unreachable); answer 503 so the sender retries"
	var refused *Error
	if !errors.As(busy.Err, &refused) || refused.Message != want {
		t.Errorf("the process full: %s %v", outcomeOf(busy), busy.Err)
	}
}
