package anchorwebhooks

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
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
				want := "anchorwebhooks: Middleware(" + name + "): invalid_argument: the lease must be at least 1 s: a shorter lease " +
					"expires under a running handler, and a retry would run it a second time alongside (the default is 30 s)"
				if message != want {
					t.Errorf("%s: Middleware panicked with %q, want %q", name, message, want)
				}
			}()
			Middleware(v, NewMemoryStore(), http.NotFoundHandler(), option)
		}()
	}
	if m := Middleware(v, NewMemoryStore(), http.NotFoundHandler(), WithLease(time.Second)).(*middleware); m.receiver.Lease() != time.Second {
		t.Fatalf("WithLease(1s): lease %v", m.receiver.Lease())
	}
	if m := Middleware(v, NewMemoryStore(), http.NotFoundHandler()).(*middleware); m.receiver.Lease() != DefaultLease || DefaultLease != 30*time.Second {
		t.Fatalf("default lease %v (DefaultLease %v)", m.receiver.Lease(), DefaultLease)
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
	logged := captureDefaultLog(t, slog.LevelInfo)
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

// Middleware refuses missing parts when it is built, naming the part (net/http refuses a nil handler the same
// way); a nil verifier or store used to be blamed on WithLease, a nil handler to panic on the first delivery.
func TestMiddlewareRefusesMissingParts(t *testing.T) {
	const nilStore = "anchorwebhooks: Middleware: the store is nil (make it with NewMemoryStore or NewRedisStore)"
	v, _ := NewVerifier([]string{testSecret})
	store := NewMemoryStore()
	handler := http.NotFoundHandler()
	for name, c := range map[string]struct {
		build func() http.Handler
		want  string
	}{
		"nil verifier": {func() http.Handler { return Middleware(nil, store, handler) },
			"anchorwebhooks: Middleware: the verifier is nil (make it with NewVerifier)"},
		"zero verifier": {func() http.Handler { return Middleware(&Verifier{}, store, handler, WithLease(time.Minute)) },
			"anchorwebhooks: Middleware: the verifier is nil (make it with NewVerifier)"},
		"nil store":        {func() http.Handler { return Middleware(v, nil, handler) }, nilStore},
		"nil *MemoryStore": {func() http.Handler { return Middleware(v, (*MemoryStore)(nil), handler) }, nilStore},
		"zero store":       {func() http.Handler { return Middleware(v, &MemoryStore{}, handler) }, nilStore},
		"nil *RedisStore":  {func() http.Handler { return Middleware(v, (*RedisStore)(nil), handler) }, nilStore},
		"zero RedisStore":  {func() http.Handler { return Middleware(v, &RedisStore{}, handler) }, nilStore},
		"nil handler": {func() http.Handler { return Middleware(v, store, nil) },
			"anchorwebhooks: Middleware: the handler is nil"},
	} {
		func() {
			defer func() {
				if message := fmt.Sprint(recover()); message != c.want {
					t.Errorf("%s: Middleware panicked with %q, want %q", name, message, c.want)
				}
			}()
			c.build()
		}()
	}
}

// refusal is one call of a WithRejected hook.
type refusal struct {
	path    string
	status  int
	code    string
	message string
}

// Every delivery Middleware refuses without running the handler is reported through WithRejected with the
// request and the *Error (the core's message), and answered with that message next to the code.
func TestRejectedDeliveriesAreReported(t *testing.T) {
	v, _ := NewVerifier([]string{testSecret}, WithMaxBodyBytes(4096))
	var mu sync.Mutex
	var reported []refusal
	runs := 0
	var serve func(body []byte, h http.Header, wrap func(*http.Request, http.ResponseWriter)) *httptest.ResponseRecorder
	// The store holds one id: while the first fresh delivery's handler runs, its claim fills it, and another
	// event arriving then is refused (a store full of claims in progress).
	var whileClaimed *httptest.ResponseRecorder
	other := envelope("evt_other", "task.completed")
	otherHeaders, _ := Sign([]string{testSecret}, other, time.Now().Unix())
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs++
		if whileClaimed == nil {
			whileClaimed = serve(other, otherHeaders, nil)
		}
	})
	m := Middleware(v, NewMemoryStore(WithMaxEntries(1)), handler, WithRejected(func(r *http.Request, err *Error) {
		mu.Lock()
		defer mu.Unlock()
		reported = append(reported, refusal{r.URL.Path, err.HTTPStatus, err.Code, err.Message})
	}))
	serve = func(body []byte, h http.Header, wrap func(*http.Request, http.ResponseWriter)) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(body))
		r.Header = h
		w := httptest.NewRecorder()
		if wrap != nil {
			wrap(r, w)
		}
		m.ServeHTTP(w, r)
		return w
	}
	now := time.Now().Unix()
	body := envelope("evt_ok", "task.completed")
	h, _ := Sign([]string{testSecret}, body, now)
	forged, _ := Sign([]string{"not-the-secret"}, body, now)
	big := []byte(`{"id":"evt_big","type":"t","data":{"x":"` + strings.Repeat("x", 5000) + `"}}`)
	bigHeaders, _ := Sign([]string{testSecret}, big, now)

	const mismatch = "signature mismatch: none of the 1 signature(s) matches any of the 1 secret(s); was the body " +
		"parsed and re-serialised? verify the raw bytes; is this the secret of this webhook?"
	const consumed = "signature mismatch: none of the 1 signature(s) matches any of the 1 secret(s); the body is " +
		"empty: was it consumed by a body parser before verification? pass the raw request body"
	const malformed = "malformed header `Anchor-Signature`: a `v1` value is not 64 hex digits"
	const tooLarge = "body too large: more than the limit of 4096 bytes"
	const stopped = "body too large: http.MaxBytesReader stopped it at 10 bytes"
	const unreadable = "the request body could not be read: connection reset by peer"
	const full = "dedupe store unavailable: the memory store is full of claims in progress (maximum entries: 1); " +
		"raise its maximum number of entries or use a shared store; answer 503 so the sender retries"
	cases := []struct {
		name   string
		answer *httptest.ResponseRecorder
		want   refusal
	}{
		{"forged", serve(body, forged, nil), refusal{"/hook", 401, CodeSignatureMismatch, mismatch}},
		{"consumed by a middleware in front", serve(body, h, func(r *http.Request, _ http.ResponseWriter) {
			_, _ = io.ReadAll(r.Body) // a logging middleware that does not restore the body
		}), refusal{"/hook", 401, CodeSignatureMismatch, consumed}},
		{"malformed", serve(body, http.Header{"Anchor-Signature": {"t=1,v1=zz"}}, nil),
			refusal{"/hook", 400, CodeMalformedHeader, malformed}},
		{"too large", serve(big, bigHeaders, nil), refusal{"/hook", 413, CodeBodyTooLarge, tooLarge}},
		{"MaxBytesReader", serve(body, h, func(r *http.Request, w http.ResponseWriter) {
			r.Body = http.MaxBytesReader(w, r.Body, 10)
		}), refusal{"/hook", 413, CodeBodyTooLarge, stopped}},
		{"unreadable", serve(body, h, func(r *http.Request, _ http.ResponseWriter) {
			r.Body = io.NopCloser(iotest.ErrReader(errors.New("connection reset by peer")))
		}), refusal{"/hook", 503, CodeUnreadableBody, unreadable}},
		{"fresh", serve(body, h, nil), refusal{}},
		// A call, so it is evaluated after the one above (Go orders calls, not variable reads, in a literal).
		{"store full of claims", func() *httptest.ResponseRecorder { return whileClaimed }(),
			refusal{"/hook", 503, CodeStoreUnavailable, full}},
		{"duplicate", serve(body, h, nil), refusal{}},
		// Full of a completed id, the store forgets the oldest completed one to take a new event.
		{"store full of completed ids", serve(other, otherHeaders, nil), refusal{}},
	}
	var want []refusal
	for _, c := range cases {
		status, answer := c.answer.Code, strings.TrimSpace(c.answer.Body.String())
		switch c.want {
		case refusal{}:
			if status != 200 {
				t.Errorf("%s: %d %s", c.name, status, answer)
			}
			continue
		}
		wantAnswer := fmt.Sprintf(`{"error":%q,"message":%q}`, c.want.code, c.want.message)
		if status != c.want.status || answer != wantAnswer {
			t.Errorf("%s: answered %d %s, want %d %s", c.name, status, answer, c.want.status, wantAnswer)
		}
		want = append(want, c.want)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(reported) != fmt.Sprint(want) || runs != 2 {
		t.Fatalf("reported:\n%+v\nwant:\n%+v\n(%d runs)", reported, want, runs)
	}
}

// Without WithRejected, a refusal is one log/slog line: Info for what anyone can send (a forgery, a body the
// connection did not deliver), Warn for invalid_payload (signed by the sender but unusable: that event is lost),
// Error for an unavailable store; the core's message, never a secret, a signature or the body.
func TestRejectedDeliveriesAreLoggedByDefault(t *testing.T) {
	logged := captureDefaultLog(t, slog.LevelDebug)
	v, _ := NewVerifier([]string{testSecret})
	now := time.Now().Unix()
	other := envelope("evt_logged_other", "task.completed")
	otherHeaders, _ := Sign([]string{testSecret}, other, now)
	var serve func(body []byte, h http.Header, reader io.Reader) int
	whileClaimed := 0 // the answer to another event while the store's one entry is the handler's claim
	m := Middleware(v, NewMemoryStore(WithMaxEntries(1)), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		if whileClaimed == 0 {
			whileClaimed = serve(other, otherHeaders, bytes.NewReader(other))
		}
	}))
	serve = func(body []byte, h http.Header, reader io.Reader) int {
		r := httptest.NewRequest(http.MethodPost, "/webhooks/anchor?token=not-logged", reader)
		r.Header = h
		w := httptest.NewRecorder()
		m.ServeHTTP(w, r)
		return w.Code
	}
	body := envelope("evt_logged_refusal", "task.completed")
	h, _ := Sign([]string{testSecret}, body, now)
	unusable := []byte(`{"id":"evt_unusable"}`)
	unusableHeaders, _ := Sign([]string{testSecret}, unusable, now)
	statuses := []int{
		serve(body, h, strings.NewReader("")), // consumed before Middleware
		serve(body, h, iotest.ErrReader(errors.New("unexpected EOF"))),
		serve(unusable, unusableHeaders, bytes.NewReader(unusable)),
		serve(body, h, bytes.NewReader(body)),
	}
	statuses = append(statuses, whileClaimed)
	if fmt.Sprint(statuses) != "[401 503 400 200 503]" {
		t.Fatalf("statuses %v", statuses)
	}
	want := `level=INFO msg="anchor-webhooks: delivery refused" status=401 code=signature_mismatch ` +
		`message="signature mismatch: none of the 1 signature(s) matches any of the 1 secret(s); the body is empty: ` +
		`was it consumed by a body parser before verification? pass the raw request body" path=/webhooks/anchor` + "\n" +
		`level=INFO msg="anchor-webhooks: delivery refused" status=503 code=unreadable_body ` +
		`message="the request body could not be read: unexpected EOF" path=/webhooks/anchor` + "\n" +
		`level=WARN msg="anchor-webhooks: delivery refused" status=400 code=invalid_payload ` +
		`message="invalid payload (the signature is valid): ` + "`type`" + ` is missing or not a non-empty string" path=/webhooks/anchor` + "\n" +
		`level=ERROR msg="anchor-webhooks: delivery refused" status=503 code=store_unavailable ` +
		`message="dedupe store unavailable: the memory store is full of claims in progress (maximum entries: 1); raise ` +
		`its maximum number of entries or use a shared store; answer 503 so the sender retries" ` +
		`path=/webhooks/anchor` + "\n"
	// The default logger is process-wide: look for this test's lines (path /webhooks/anchor) only.
	var mine []string
	for _, line := range strings.SplitAfter(logged.String(), "\n") {
		if strings.Contains(line, "path=/webhooks/anchor") {
			mine = append(mine, line)
		}
	}
	if got := strings.Join(mine, ""); got != want {
		t.Fatalf("logged:\n%s\nwant:\n%s", got, want)
	}
}

// captureDefaultLog sends log/slog's default logger to the returned buffer (text lines without the time,
// from level on) until the test ends.
func captureDefaultLog(t *testing.T, level slog.Level) *bytes.Buffer {
	var logged bytes.Buffer
	previous := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})))
	t.Cleanup(func() { slog.SetDefault(previous) })
	return &logged
}

// The claim follows the sender's retry rule (the core's anchor_sender_retries): a handler answering a status
// the sender retries (3xx, 408, 429, 5xx) releases it, so the retry runs the handler and is answered by it,
// not "duplicate" (completing after a 429 lost the event); any other status completes it.
func TestClaimFollowsTheSendersRetryRule(t *testing.T) {
	v, _ := NewVerifier([]string{testSecret})
	var runs sync.Map // event id -> *atomic.Int32
	firstStatus := map[string]int{"evt_429": 429, "evt_408": 408, "evt_302": 302, "evt_404": 404}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		event, _ := EventFromContext(r.Context())
		counter, _ := runs.LoadOrStore(event.ID, new(atomic.Int32))
		if counter.(*atomic.Int32).Add(1) == 1 {
			w.WriteHeader(firstStatus[event.ID]) // a 302 without Location: the client does not follow it
			return
		}
		_, _ = io.WriteString(w, "processed")
	})
	url := listen(t, Middleware(v, NewMemoryStore(), handler))
	runsOf := func(id string) int32 {
		counter, ok := runs.Load(id)
		if !ok {
			return 0
		}
		return counter.(*atomic.Int32).Load()
	}
	const duplicate = `{"ok":true,"outcome":"duplicate"}`
	for _, id := range []string{"evt_429", "evt_408", "evt_302", "evt_404"} {
		body := envelope(id, "task.completed")
		h, err := Sign([]string{testSecret}, body, time.Now().Unix())
		if err != nil {
			t.Fatal(err)
		}
		if a := post(t, url, h, body); a.status != firstStatus[id] || runsOf(id) != 1 {
			t.Errorf("%s first delivery: %+v, %d runs", id, a, runsOf(id))
			continue
		}
		retry := post(t, url, h, body)
		if id == "evt_404" {
			// The sender does not retry a 404: the event is done, a replay is a duplicate.
			if retry.status != 200 || retry.body != duplicate || runsOf(id) != 1 {
				t.Errorf("%s replay: %+v, %d runs (want the duplicate answer, 1 run)", id, retry, runsOf(id))
			}
			continue
		}
		if retry.status != 200 || retry.body != "processed" || runsOf(id) != 2 {
			t.Errorf("%s retry: %+v, %d runs (want 200 processed by the handler, 2 runs: the claim was "+
				"completed after a status the sender retries)", id, retry, runsOf(id))
			continue
		}
		if again := post(t, url, h, body); again.body != duplicate || runsOf(id) != 2 {
			t.Errorf("%s after the retry succeeded: %+v, %d runs", id, again, runsOf(id))
		}
	}
	// The Go side asks the core; spot-check the rule it answers.
	for status, retried := range map[int]bool{200: false, 204: false, 301: true, 400: false, 404: false,
		408: true, 409: false, 429: true, 500: true, 503: true, 600: true} {
		if SenderRetries(status) != retried {
			t.Errorf("SenderRetries(%d) = %v, want %v", status, !retried, retried)
		}
	}
}

// Wrap is Middleware as func(http.Handler) http.Handler: the handlers one Wrap wraps share its receiver and
// dedupe together; its parts and options are checked when Wrap is called, the handler when it is wrapped.
func TestWrapSharesOneReceiver(t *testing.T) {
	v, _ := NewVerifier([]string{testSecret})
	var runsA, runsB atomic.Int32
	var refused []string
	wrap := Wrap(v, NewMemoryStore(), WithRejected(func(_ *http.Request, err *Error) { refused = append(refused, err.Code) }))
	a := wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if event, ok := EventFromContext(r.Context()); !ok || event.ID != "evt_wrapped" {
			t.Errorf("the event in the context: %v %v", event, ok)
		}
		runsA.Add(1)
	}))
	b := wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { runsB.Add(1) }))
	body := envelope("evt_wrapped", "task.completed")
	h, _ := Sign([]string{testSecret}, body, time.Now().Unix())
	serve := func(handler http.Handler, h http.Header) (int, string) {
		r := httptest.NewRequest(http.MethodPost, "/hooks", bytes.NewReader(body))
		r.Header = h.Clone()
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		return w.Code, strings.TrimSpace(w.Body.String())
	}
	if status, _ := serve(a, h); status != 200 || runsA.Load() != 1 {
		t.Errorf("a: %d, %d runs", status, runsA.Load())
	}
	if status, answer := serve(b, h); status != 200 || answer != `{"ok":true,"outcome":"duplicate"}` || runsB.Load() != 0 {
		t.Errorf("b, the same event: %d %s, %d runs", status, answer, runsB.Load())
	}
	forged, _ := Sign([]string{"not-the-secret"}, body, time.Now().Unix())
	if status, _ := serve(b, forged); status != 401 || len(refused) != 1 || refused[0] != "signature_mismatch" {
		t.Errorf("b, forged: %d, refused %v", status, refused)
	}
	panicsWith := func(want string, call func()) {
		t.Helper()
		defer func() {
			if got := fmt.Sprint(recover()); got != want {
				t.Errorf("panicked with %q, want %q", got, want)
			}
		}()
		call()
	}
	panicsWith("anchorwebhooks: Wrap: the verifier is nil (make it with NewVerifier)", func() { Wrap(nil, NewMemoryStore()) })
	panicsWith("anchorwebhooks: Wrap: the store is nil (make it with NewMemoryStore or NewRedisStore)", func() { Wrap(v, nil) })
	panicsWith("anchorwebhooks: Wrap(WithLease(0s)): invalid_argument: the lease must be at least 1 s: a shorter lease "+
		"expires under a running handler, and a retry would run it a second time alongside (the default is 30 s)",
		func() { Wrap(v, NewMemoryStore(), WithLease(0)) })
	panicsWith("anchorwebhooks: Wrap: the handler is nil", func() { wrap(nil) })
}
