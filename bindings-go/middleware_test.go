package anchorwebhooks

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Lease options that would let two workers run the same event at once are refused, not clamped.
func TestLeaseOptionsUnderOneSecondPanic(t *testing.T) {
	v, _ := NewVerifier([]string{testSecret})
	for name, option := range map[string]MiddlewareOption{
		"WithLease(0s)":    WithLease(0),
		"WithLease(999ms)": WithLease(999 * time.Millisecond),
		"WithLease(-30s)":  WithLease(-30 * time.Second),
		"WithLease(1ns)":   WithLease(time.Nanosecond),
	} {
		func() {
			defer func() {
				message := fmt.Sprint(recover())
				// The reason is the core's, the same in every language.
				want := "anchorwebhooks: " + name + ": invalid_argument: lease_ms must be at least 1 s: a shorter lease " +
					"expires under a running handler, and a retry would run it a second time alongside (the default is 30 s)"
				if message != want {
					t.Errorf("%s: Middleware panicked with %q, want %q", name, message, want)
				}
			}()
			Middleware(v, NewMemoryStore(), http.NotFoundHandler(), option)
		}()
	}
	if m := Middleware(v, NewMemoryStore(), http.NotFoundHandler(), WithLease(time.Second)).(*middleware); m.lease != time.Second {
		t.Fatalf("WithLease(1s): lease %v", m.lease)
	}
	if m := Middleware(v, NewMemoryStore(), http.NotFoundHandler()).(*middleware); m.lease != DefaultLease || DefaultLease != 30*time.Second {
		t.Fatalf("default lease %v (DefaultLease %v)", m.lease, DefaultLease)
	}
}

// A handler that outlasts the lease loses its claim: a retry arriving after the lease takes the event
// over and runs the handler again. When the first handler then succeeds, completing reports the claim lost
// (the library's completed flag is false) and Middleware reports it through WithClaimLost.
func TestClaimLostToARetryIsReported(t *testing.T) {
	v, _ := NewVerifier([]string{testSecret})
	var runs atomic.Int32
	release := make(chan struct{})
	started := make(chan struct{})
	var lost []string
	var lostMu sync.Mutex
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if runs.Add(1) == 1 {
			close(started)
			<-release // the slow first run
		}
		w.WriteHeader(http.StatusNoContent)
	})
	m := Middleware(v, NewMemoryStore(), handler, WithLease(time.Second), WithClaimLost(func(r *http.Request, event *Event, warning string) {
		lostMu.Lock()
		defer lostMu.Unlock()
		lost = append(lost, r.URL.Path+" "+event.ID+": "+warning)
	}))
	body := envelope("evt_slow", "task.completed")
	h, _ := Sign([]string{testSecret}, body, time.Now().Unix())
	request := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(body))
		r.Header = h.Clone()
		return r
	}
	first := httptest.NewRecorder()
	firstDone := make(chan struct{})
	go func() {
		defer close(firstDone)
		m.ServeHTTP(first, request())
	}()
	<-started
	// While the first run holds the claim, a retry is told to come back later.
	retry := httptest.NewRecorder()
	m.ServeHTTP(retry, request())
	if retry.Code != 503 || runs.Load() != 1 {
		t.Fatalf("retry within the lease: %d, %d runs", retry.Code, runs.Load())
	}
	// Once the lease has run out, the next retry takes the claim over and runs the handler.
	for deadline := time.Now().Add(10 * time.Second); ; {
		time.Sleep(50 * time.Millisecond)
		retry = httptest.NewRecorder()
		m.ServeHTTP(retry, request())
		if retry.Code != 503 || time.Now().After(deadline) {
			break
		}
	}
	if retry.Code != 204 || runs.Load() != 2 {
		t.Fatalf("retry after the lease: %d, %d runs", retry.Code, runs.Load())
	}
	close(release)
	<-firstDone
	lostMu.Lock()
	defer lostMu.Unlock()
	// The core's warning, the same words as in every language.
	want := "/hook evt_slow: " + claimLostWarning("evt_slow", "1 s")
	if first.Code != 204 || len(lost) != 1 || lost[0] != want {
		t.Fatalf("first run: %d, claims reported lost: %q (want exactly [%q])", first.Code, lost, want)
	}
	// The retry completed the event: later deliveries are duplicates.
	again := httptest.NewRecorder()
	m.ServeHTTP(again, request())
	if again.Code != 200 || runs.Load() != 2 {
		t.Fatalf("after both runs: %d, %d runs", again.Code, runs.Load())
	}
}

// Without WithClaimLost, a lost claim is a warning through log/slog's default logger.
func TestClaimLostIsLoggedByDefault(t *testing.T) {
	var logged bytes.Buffer
	previous := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})))
	defer slog.SetDefault(previous)
	v, _ := NewVerifier([]string{testSecret})
	release := make(chan struct{})
	started := make(chan struct{})
	var runs atomic.Int32
	m := Middleware(v, NewMemoryStore(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if runs.Add(1) == 1 {
			close(started)
			<-release
		}
	}), WithLease(time.Second))
	body := envelope("evt_logged", "task.completed")
	h, _ := Sign([]string{testSecret}, body, time.Now().Unix())
	serve := func() int {
		r := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(body))
		r.Header = h.Clone()
		w := httptest.NewRecorder()
		m.ServeHTTP(w, r)
		return w.Code
	}
	firstDone := make(chan struct{})
	go func() {
		defer close(firstDone)
		serve()
	}()
	<-started
	for deadline := time.Now().Add(10 * time.Second); serve() == 503 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	close(release)
	<-firstDone
	want := fmt.Sprintf("level=WARN msg=%q event_id=evt_logged lease=1s\n", claimLostWarning("evt_logged", "1 s"))
	// The default logger is process-wide: count the record rather than compare the whole log, so a stray
	// line from another test's server cannot fail this one.
	if runs.Load() != 2 || strings.Count(logged.String(), want) != 1 {
		t.Fatalf("%d runs, logged:\n%s\nwant:\n%s", runs.Load(), logged.String(), want)
	}
}

// plainWriter is a ResponseWriter that cannot flush.
type plainWriter struct{ recorder *httptest.ResponseRecorder }

func (p plainWriter) Header() http.Header         { return p.recorder.Header() }
func (p plainWriter) Write(b []byte) (int, error) { return p.recorder.Write(b) }
func (p plainWriter) WriteHeader(status int)      { p.recorder.WriteHeader(status) }

// The handler's writer flushes when the server's does (a streamed answer reaches the client before the
// handler returns), does not pretend to when it cannot, and still unwraps for http.ResponseController.
func TestHandlerWriterFlushesLikeTheServers(t *testing.T) {
	v, _ := NewVerifier([]string{testSecret})
	store := NewMemoryStore()
	proceed := make(chan struct{})
	var canFlush, unwraps atomic.Value
	m := Middleware(v, store, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		flusher, ok := w.(http.Flusher)
		canFlush.Store(ok)
		_, isUnwrapper := w.(interface{ Unwrap() http.ResponseWriter })
		unwraps.Store(isUnwrapper)
		if !ok {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		_, _ = io.WriteString(w, "first\n")
		flusher.Flush()
		<-proceed // the client has read "first" before the handler goes on
		_, _ = io.WriteString(w, "second\n")
	}))
	url := listen(t, m)
	body := envelope("evt_streamed", "task.completed")
	h, _ := Sign([]string{testSecret}, body, time.Now().Unix())
	request, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	request.Header = h.Clone()
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	reader := bufio.NewReader(response.Body)
	line, err := reader.ReadString('\n')
	if err != nil || line != "first\n" || response.StatusCode != 200 || canFlush.Load() != true || unwraps.Load() != true {
		close(proceed)
		t.Fatalf("streamed answer: %d %q %v, Flusher %v, Unwrap %v", response.StatusCode, line, err, canFlush.Load(), unwraps.Load())
	}
	close(proceed)
	if rest, _ := io.ReadAll(reader); string(rest) != "second\n" {
		t.Fatalf("rest %q", rest)
	}

	// Over a writer that cannot flush, the handler's writer is no Flusher either.
	other := envelope("evt_not_streamed", "task.completed")
	oh, _ := Sign([]string{testSecret}, other, time.Now().Unix())
	r := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(other))
	r.Header = oh
	w := plainWriter{httptest.NewRecorder()}
	m.ServeHTTP(w, r)
	if w.recorder.Code != http.StatusAccepted || canFlush.Load() != false || unwraps.Load() != true {
		t.Fatalf("plain writer: %d, Flusher %v, Unwrap %v", w.recorder.Code, canFlush.Load(), unwraps.Load())
	}
}

// claimLostWarning is the core's warning for a lost claim (anchor_webhooks::claim_lost_warning).
func claimLostWarning(eventID, lease string) string {
	return "anchor-webhooks: claim lost: the handler of event " + eventID + " outlasted its " + lease + " lease and " +
		"the claim was gone when it finished (another delivery may have run it too); choose a lease longer than the handler"
}
