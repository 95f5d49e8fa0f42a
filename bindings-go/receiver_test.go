package anchorwebhooks

import (
	"errors"
	"fmt"
	"net/http"
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
	v, _ := NewVerifier([]string{testSecret})
	r := NewReceiver(v, NewMemoryStore(), DefaultLease)
	if r.Verifier() != v || r.Lease() != DefaultLease || r.Store() == nil {
		t.Fatalf("accessors: %v %v %v", r.Verifier(), r.Lease(), r.Store())
	}
	var runs atomic.Int32
	ok := func(*Event) error { runs.Add(1); return nil }
	body, h := signed(t, "evt_receiver_fresh", time.Now().Unix())

	check := func(name string, got Outcome, want string, wantRuns int32) {
		t.Helper()
		if outcomeOf(got) != want || runs.Load() != wantRuns {
			t.Errorf("%s: %s (%d runs), want %s (%d runs)", name, outcomeOf(got), runs.Load(), want, wantRuns)
		}
	}
	first := r.Receive(body, h, ok)
	check("fresh", first, `processed 200 retry-after=0s event="evt_receiver_fresh"`, 1)
	if first.Err != nil || first.ClaimLost != "" || first.ReleaseErr != nil || first.Event.Type != EventTaskCompleted {
		t.Errorf("fresh: %+v", first)
	}
	check("duplicate", r.Receive(body, h, ok), `duplicate 200 retry-after=0s event="evt_receiver_fresh"`, 1)

	forged, _ := Sign([]string{"not-the-secret"}, body, time.Now().Unix())
	rejected := r.Receive(body, forged, ok)
	check("forged", rejected, `rejected 401 retry-after=0s event=""`, 1)
	if !errors.Is(rejected.Err, ErrSignatureMismatch) {
		t.Errorf("forged: %v", rejected.Err)
	}

	// A failed handler releases the claim: the retry runs it again, and its success completes the event.
	failing, fh := signed(t, "evt_receiver_fails", time.Now().Unix())
	cause := errors.New("database down")
	failed := r.Receive(failing, fh, func(*Event) error { runs.Add(1); return fmt.Errorf("saving: %w", cause) })
	check("handler failed", failed, `handler_failed 500 retry-after=0s event="evt_receiver_fails"`, 2)
	if !errors.Is(failed.Err, cause) || failed.ReleaseErr != nil {
		t.Errorf("handler failed: %+v", failed)
	}
	check("retry after a failure", r.Receive(failing, fh, ok), `processed 200 retry-after=0s event="evt_receiver_fails"`, 3)

	// A panicking handler releases the claim too; the panic goes on as it was.
	panicking, ph := signed(t, "evt_receiver_panics", time.Now().Unix())
	func() {
		defer func() {
			if got := recover(); got != "handler bug" {
				t.Errorf("the handler's panic: %v", got)
			}
		}()
		r.Receive(panicking, ph, func(*Event) error { runs.Add(1); panic("handler bug") })
		t.Error("Receive returned after its handler panicked")
	}()
	check("retry after a panic", r.Receive(panicking, ph, ok), `processed 200 retry-after=0s event="evt_receiver_panics"`, 5)

	// While a handler runs, another delivery of the event is in progress: 503 with Retry-After.
	slow, sh := signed(t, "evt_receiver_slow", time.Now().Unix())
	started, finish := make(chan struct{}), make(chan struct{})
	done := make(chan Outcome)
	go func() {
		done <- r.Receive(slow, sh, func(*Event) error { close(started); <-finish; return nil })
	}()
	<-started
	check("in progress", r.Receive(slow, sh, ok), `in_progress 503 retry-after=5s event="evt_receiver_slow"`, 5)
	close(finish)
	check("the slow one", <-done, `processed 200 retry-after=0s event="evt_receiver_slow"`, 5)
}

// ReceiveAt fixes the clock of the verification, the claim and its end: a stale delivery is refused as such,
// and a handler that outlasts its lease (a retry took the event over) is Processed with the core's warning.
func TestReceiveAtAndTheLostClaim(t *testing.T) {
	v, _ := NewVerifier([]string{testSecret})
	r := NewReceiver(v, NewMemoryStore(), time.Second)
	signedAt := time.Unix(1_900_000_000, 0)
	body, h := signed(t, "evt_receive_at", signedAt.Unix())

	stale := r.ReceiveAt(body, h, signedAt.Add(301*time.Second), func(*Event) error { return nil })
	if outcomeOf(stale) != `rejected 401 retry-after=0s event=""` || !errors.Is(stale.Err, ErrTimestampTooOld) {
		t.Errorf("stale: %s %v", outcomeOf(stale), stale.Err)
	}

	var retried Outcome
	first := r.ReceiveAt(body, h, signedAt, func(*Event) error {
		// The retry arrives 2 s later: the 1 s lease has run out, so it takes the event over and runs.
		retried = r.ReceiveAt(body, h, signedAt.Add(2*time.Second), func(*Event) error { return nil })
		return nil
	})
	if outcomeOf(retried) != `processed 200 retry-after=0s event="evt_receive_at"` || retried.ClaimLost != "" {
		t.Errorf("the retry: %s %q", outcomeOf(retried), retried.ClaimLost)
	}
	if outcomeOf(first) != `processed 200 retry-after=0s event="evt_receive_at"` ||
		first.ClaimLost != claimLostWarning("evt_receive_at", "1 s") {
		t.Errorf("the first: %s %q", outcomeOf(first), first.ClaimLost)
	}
	if again := r.ReceiveAt(body, h, signedAt.Add(3*time.Second), func(*Event) error { return nil }); again.Kind != OutcomeDuplicate {
		t.Errorf("after both: %s", outcomeOf(again))
	}
}

func TestNewReceiverRefusesMissingParts(t *testing.T) {
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
		func() { NewReceiver(nil, NewMemoryStore(), DefaultLease) })
	panicsWith("zero verifier", "anchorwebhooks: NewReceiver: the verifier is nil (make it with NewVerifier)",
		func() { NewReceiver(&Verifier{}, NewMemoryStore(), DefaultLease) })
	panicsWith("nil store", "anchorwebhooks: NewReceiver: the store is nil (make it with NewMemoryStore or NewRedisStore)",
		func() { NewReceiver(v, nil, DefaultLease) })
	panicsWith("zero store", "anchorwebhooks: NewReceiver: the store is nil (make it with NewMemoryStore or NewRedisStore)",
		func() { NewReceiver(v, &RedisStore{}, DefaultLease) })
	panicsWith("short lease", "anchorwebhooks: NewReceiver(lease 999ms): invalid_argument: lease_ms must be at least 1 s: "+
		"a shorter lease expires under a running handler, and a retry would run it a second time alongside (the default is 30 s)",
		func() { NewReceiver(v, NewMemoryStore(), 999*time.Millisecond) })
	r := NewReceiver(v, NewMemoryStore(), DefaultLease)
	body, h := signed(t, "evt_no_handler", time.Now().Unix())
	panicsWith("nil handler", "anchorwebhooks: Receive: the handler is nil", func() { r.Receive(body, h, nil) })
	// The nil handler was refused before any claim: the event is still fresh.
	if o := r.Receive(body, h, func(*Event) error { return nil }); o.Kind != OutcomeProcessed {
		t.Errorf("after the nil handler: %s", outcomeOf(o))
	}
}

// With Redis: a store that fails after the handler ran is a rejected outcome that carries the event (the
// handler ran unrecorded, 503), a failed release is ReleaseErr beside the handler's error, and a store with
// no free call is store_unavailable after verification (a forgery is still refused as one).
func TestReceiverWithAFailingRedis(t *testing.T) {
	server := startRedis(t, 0)
	t.Cleanup(func() { _ = server.cmd.Process.Signal(syscall.SIGCONT) })
	v, _ := NewVerifier([]string{testSecret})
	store := newRedisStore(t, server.url(), fmt.Sprintf("go-receiver-%d", time.Now().UnixNano()),
		WithRedisTimeout(300*time.Millisecond), WithRedisMaxConcurrentCalls(1))
	r := NewReceiver(v, store, DefaultLease)
	hang := func(*Event) error { return server.cmd.Process.Signal(syscall.SIGSTOP) }

	body, h := signed(t, "evt_receiver_unrecorded", time.Now().Unix())
	unrecorded := r.Receive(body, h, hang)
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
	unreleased := r.Receive(failing, fh, func(e *Event) error { _ = hang(e); return cause })
	_ = server.cmd.Process.Signal(syscall.SIGCONT)
	if outcomeOf(unreleased) != `handler_failed 500 retry-after=0s event="evt_receiver_unreleased"` ||
		!errors.Is(unreleased.Err, cause) || !errors.Is(unreleased.ReleaseErr, ErrStoreUnavailable) {
		t.Errorf("a failed release: %s %v %v", outcomeOf(unreleased), unreleased.Err, unreleased.ReleaseErr)
	}

	// With the store's one call held, a delivery finds no turn.
	done, ok := store.turn()
	if !ok {
		t.Fatal("no turn on an idle store")
	}
	defer done()
	busy := r.Receive(body, h, func(*Event) error { t.Error("ran without a claim"); return nil })
	if outcomeOf(busy) != `rejected 503 retry-after=5s event=""` || !errors.Is(busy.Err, ErrStoreUnavailable) {
		t.Errorf("no turn: %s %v", outcomeOf(busy), busy.Err)
	}
	forged, _ := Sign([]string{"not-the-secret"}, body, time.Now().Unix())
	if o := r.Receive(body, forged, func(*Event) error { return nil }); !errors.Is(o.Err, ErrSignatureMismatch) {
		t.Errorf("a forgery with no turn: %s %v", outcomeOf(o), o.Err)
	}
}
