package anchorwebhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"
)

const testSecret = "36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6"

// mismatchMessage is the core's message for a forgery with one signature and one secret, as JSON.
const mismatchMessage = `"signature mismatch: none of the 1 signature(s) matches any of the 1 secret(s); was the ` +
	`body parsed and re-serialised? verify the raw bytes; is this the secret of this webhook?"`

func envelope(id, eventType string) []byte {
	return []byte(fmt.Sprintf(`{"id":%q,"type":%q,"created":"2026-05-24T12:18:05.123Z",`+
		`"project_id":"5d2c31f6-ab7e-481a-b6fd-8b4a96a4e197","text":"summary","data":{"task_id":"t_1","n":[1,2]}}`,
		id, eventType))
}

// The Go declarations (error codes, sentinels, event types) against the core's catalogue.
func TestCatalogueDrift(t *testing.T) {
	var fixes []string
	declared := map[string]bool{}
	for _, s := range sentinels {
		declared[s.Code] = true
	}
	for _, code := range ErrorCodes() {
		if !declared[code.Code] {
			name := goName(code.Code)
			fixes = append(fixes, fmt.Sprintf("errors.go: add  Code%s = %q,  Err%s = sentinel(Code%s)  and list Err%s in sentinels",
				name, code.Code, name, name, name))
			continue
		}
		s := sentinelFor(t, code.Code)
		if s.Number != code.Number || s.HTTPStatus != code.HTTPStatus || s.Number == 0 {
			t.Errorf("sentinel %s: number %d status %d, catalogue %d %d", code.Code, s.Number, s.HTTPStatus,
				code.Number, code.HTTPStatus)
		}
		delete(declared, code.Code)
	}
	// The C library's and the binding's own, outside the core's catalogue.
	for _, own := range []string{CodeInvalidArgument, CodeNullParameter, CodeStoreMisconfigured, CodeUnreadableBody} {
		delete(declared, own)
	}
	if s := sentinelFor(t, CodeNullParameter); s.Number != 1000 || s.HTTPStatus != 500 {
		t.Errorf("sentinel null_parameter: number %d status %d, want the C library's 1000 and 500", s.Number, s.HTTPStatus)
	}
	for code := range declared {
		fixes = append(fixes, fmt.Sprintf("errors.go: remove %q (no longer in the core's catalogue)", code))
	}
	known := map[EventType]bool{}
	for _, eventType := range knownEventTypes {
		known[eventType] = true
	}
	for _, eventType := range EventTypes() {
		if !known[eventType] {
			fixes = append(fixes, fmt.Sprintf("event.go: add  Event%s EventType = %q  and list it in knownEventTypes",
				goName(strings.NewReplacer(".", "_").Replace(string(eventType))), eventType))
		}
		delete(known, eventType)
	}
	for eventType := range known {
		fixes = append(fixes, fmt.Sprintf("event.go: remove %q (no longer in the core's catalogue)", eventType))
	}
	if len(fixes) > 0 {
		t.Fatalf("the Go declarations drifted from the core's catalogue:\n  %s", strings.Join(fixes, "\n  "))
	}
	if ErrInvalidArgument.Number != 1003 || ErrSignatureMismatch.Number != 9 || ErrStoreUnavailable.HTTPStatus != 503 {
		t.Fatalf("sentinel numbers: %+v %+v %+v", ErrInvalidArgument, ErrSignatureMismatch, ErrStoreUnavailable)
	}
}

func goName(snake string) string {
	var b strings.Builder
	for _, word := range strings.Split(snake, "_") {
		if word != "" {
			b.WriteString(strings.ToUpper(word[:1]) + word[1:])
		}
	}
	return b.String()
}

func TestSignVerifyAndEventFields(t *testing.T) {
	body := envelope("evt_1", "task.completed")
	h, err := Sign([]string{"new-secret", testSecret}, body, 1716544084, SignID("delivery-7"))
	if err != nil {
		t.Fatal(err)
	}
	if h.Get("Anchor-Event") != "task.completed" || h.Get("Anchor-Delivery-Id") != "delivery-7" {
		t.Fatalf("headers %v", h)
	}
	v, err := NewVerifier([]string{"unrelated", testSecret})
	if err != nil {
		t.Fatal(err)
	}
	event, err := v.VerifyAt(body, h, time.Unix(1716544084+120, 0))
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 5, 24, 12, 18, 5, 123000000, time.UTC)
	if event.ID != "evt_1" || event.Type != EventTaskCompleted || !event.Created.Equal(created) ||
		event.ProjectID != "5d2c31f6-ab7e-481a-b6fd-8b4a96a4e197" || event.Text != "summary" ||
		string(event.Data) != `{"task_id":"t_1","n":[1,2]}` || event.MatchedSecret != 1 ||
		event.Timestamp != 1716544084 || event.DeliveryID != "delivery-7" || string(event.Body) != string(body) {
		t.Fatalf("event %+v", event)
	}
	var data struct {
		TaskID string `json:"task_id"`
	}
	if err := event.DecodeData(&data); err != nil || data.TaskID != "t_1" {
		t.Fatalf("DecodeData: %v %+v", err, data)
	}
	signature, err := v.VerifySignatureAt(body, h, time.Unix(1716544084, 0))
	if err != nil || signature != (Signature{MatchedSecret: 1, Timestamp: 1716544084}) {
		t.Fatalf("VerifySignature: %+v %v", signature, err)
	}
	// One second past the tolerance: refused, with the skew in the message.
	_, err = v.VerifyAt(body, h, time.Unix(1716544084+121, 0))
	var refused *Error
	if !errors.Is(err, ErrTimestampTooOld) || !errors.As(err, &refused) || refused.HTTPStatus != 401 ||
		!strings.Contains(refused.Message, "121 s") || errors.Is(err, ErrTimestampTooNew) {
		t.Fatalf("got %#v", err)
	}
	// Tampered body.
	_, err = v.VerifyAt([]byte(strings.Replace(string(body), "t_1", "t_2", 1)), h, time.Unix(1716544084, 0))
	if !errors.Is(err, ErrSignatureMismatch) || strings.Contains(err.Error(), testSecret) {
		t.Fatalf("got %v", err)
	}
	// The Standard Webhooks scheme, with the official vector's signature.
	standard := []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
	sh, err := Sign(standard, []byte(`{"test": 2432232314}`), 1614265330, SignScheme(SchemeStandard),
		SignID("msg_p5jXN8AQM9LWM0D4loKWxJek"))
	if err != nil || sh.Get("Webhook-Signature") != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Fatalf("standard signature %v %v", sh, err)
	}
	sv, err := NewVerifier(standard, WithScheme(SchemeStandard))
	if err != nil {
		t.Fatal(err)
	}
	se, err := sv.VerifyAt([]byte(`{"test": 2432232314}`), sh, time.Unix(1614265330+300, 0))
	if err != nil || se.ID != "msg_p5jXN8AQM9LWM0D4loKWxJek" || se.Type != "" || string(se.Data) != "null" ||
		!se.Created.IsZero() {
		t.Fatalf("standard event %+v %v", se, err)
	}
}

func TestConstructionErrors(t *testing.T) {
	_, err := NewVerifier(nil)
	if !errors.Is(err, ErrInvalidSecret) || !strings.Contains(err.Error(), "no secret") {
		t.Fatalf("no secrets: %v", err)
	}
	_, err = NewVerifier([]string{"fine", " padded"})
	if !errors.Is(err, ErrInvalidSecret) || !strings.Contains(err.Error(), "secret #2") {
		t.Fatalf("padded: %v", err)
	}
	_, err = NewVerifier([]string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})
	if !errors.Is(err, ErrInvalidSecret) || !strings.Contains(err.Error(), "standard scheme") {
		t.Fatalf("wrong scheme: %v", err)
	}
	for _, opt := range []Option{WithScheme(Scheme(7)), WithTolerance(-time.Second), WithMaxBodyBytes(-1)} {
		if _, err := NewVerifier([]string{testSecret}, opt); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("invalid option: %v", err)
		}
	}
	// anchor_sign has no handle: its message comes from the thread's anchor_last_error.
	const injected = "anchor-webhooks: malformed header `Anchor-Delivery-Id`: it contains bytes that are not printable ASCII"
	if _, err := Sign([]string{testSecret}, nil, 1, SignID("a\nb")); !errors.Is(err, ErrMalformedHeader) || err.Error() != injected {
		t.Fatalf("injected id: %v", err)
	}
	const empty = "anchor-webhooks: malformed header `Anchor-Delivery-Id`: the value to sign is empty"
	if _, err := Sign([]string{testSecret}, nil, 1, SignID("")); !errors.Is(err, ErrMalformedHeader) || err.Error() != empty {
		t.Fatalf("empty id: %v", err)
	}
}

// Failures the library reports without a handle to hold their message (anchor_sign, an unknown scheme)
// still say what was wrong: Sign's secret errors carry the core's message, the same as NewVerifier's.
func TestErrorsWithoutAHandleCarryAMessage(t *testing.T) {
	const emptySecret = "invalid secret #1: it is empty (an empty secret would let anyone sign)"
	const unknownScheme = "invalid_argument: unknown scheme 99 (SchemeAnchor = 0, SchemeStandard = 1)"
	for name, c := range map[string]struct {
		err     error
		code    string
		message string
	}{
		"Sign empty secret":        {second(Sign([]string{testSecret, ""}, nil, 1)), CodeInvalidSecret, strings.Replace(emptySecret, "#1", "#2", 1)},
		"Sign standard bad base64": {second(Sign([]string{"whsec_!!"}, nil, 1, SignScheme(SchemeStandard))), CodeInvalidSecret, "invalid secret #1: the part after `whsec_` is not valid base64"},
		"NewVerifier empty secret": {second(NewVerifier([]string{""})), CodeInvalidSecret, emptySecret},
		"Sign unknown scheme":      {second(Sign([]string{testSecret}, nil, 1, SignScheme(99))), CodeInvalidArgument, unknownScheme},
		"NewVerifier unknown scheme": {second(NewVerifier([]string{testSecret}, WithScheme(99))), CodeInvalidArgument,
			unknownScheme},
	} {
		var refused *Error
		if !errors.As(c.err, &refused) || refused.Code != c.code || refused.Message != c.message ||
			refused.Error() != "anchor-webhooks: "+c.message {
			t.Errorf("%s: %#v, want code %s and message %q", name, c.err, c.code, c.message)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// listen serves handler on a loopback port with a real http.Server; returns its base URL.
func listen(t *testing.T, handler http.Handler) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = server.Serve(listener) }()
	t.Cleanup(func() { _ = server.Close() })
	return "http://" + listener.Addr().String()
}

type answerOf struct {
	status     int
	body       string
	retryAfter string
}

func post(t *testing.T, url string, h http.Header, body []byte) answerOf {
	t.Helper()
	request, err := http.NewRequest(http.MethodPost, url, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	for name, values := range h {
		request.Header[name] = values
	}
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	text, _ := io.ReadAll(response.Body)
	return answerOf{response.StatusCode, strings.TrimSpace(string(text)), response.Header.Get("Retry-After")}
}

func TestVerifyRequestRestoresTheBody(t *testing.T) {
	v, _ := NewVerifier([]string{testSecret})
	body := envelope("evt_req", "task.failed")
	h, _ := Sign([]string{testSecret}, body, time.Now().Unix())
	var got atomic.Value
	url := listen(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		event, err := v.VerifyRequest(r)
		again, _ := io.ReadAll(r.Body)
		got.Store(fmt.Sprintf("%v|%v|%s", event != nil && event.ID == "evt_req", err, again))
	}))
	post(t, url, h, body)
	if want := fmt.Sprintf("true|<nil>|%s", body); got.Load() != want {
		t.Fatalf("got %v", got.Load())
	}
	// Over the limit: refused without reading more than limit+1 bytes.
	small, _ := NewVerifier([]string{testSecret}, WithMaxBodyBytes(16))
	request, _ := http.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
	request.Header = h
	if _, err := small.VerifyRequest(request); !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("got %v", err)
	}
}

func TestMiddlewareAnswers(t *testing.T) {
	v, _ := NewVerifier([]string{testSecret}, WithMaxBodyBytes(4096))
	store := NewMemoryStore()
	var runs sync.Map // event id -> *atomic.Int32
	release, hold := make(chan struct{}), make(chan struct{})
	entered := make(chan string, 4)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		event, ok := EventFromContext(r.Context())
		if !ok {
			t.Error("no event in the context")
			return
		}
		body, _ := io.ReadAll(r.Body)
		if string(body) != string(event.Body) {
			t.Errorf("the handler reads the body again: %q", body)
		}
		counter, _ := runs.LoadOrStore(event.ID, new(atomic.Int32))
		n := counter.(*atomic.Int32).Add(1)
		switch {
		case strings.HasPrefix(event.ID, "evt_slow"):
			entered <- event.ID
			<-release
		case event.ID == "evt_hold":
			entered <- event.ID
			<-hold
		case strings.HasPrefix(event.ID, "evt_fail") && n == 1:
			w.WriteHeader(http.StatusInternalServerError)
			return
		case strings.HasPrefix(event.ID, "evt_panic") && n == 1:
			panic(http.ErrAbortHandler)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	url := listen(t, Middleware(v, store, handler))
	runsOf := func(id string) int32 {
		counter, ok := runs.Load(id)
		if !ok {
			return 0
		}
		return counter.(*atomic.Int32).Load()
	}
	deliver := func(id string) (http.Header, []byte) {
		body := envelope(id, "task.completed")
		h, err := Sign([]string{testSecret}, body, time.Now().Unix())
		if err != nil {
			t.Fatal(err)
		}
		return h, body
	}

	h, body := deliver("evt_ok")
	if a := post(t, url, h, body); a.status != 204 {
		t.Fatalf("fresh: %+v", a)
	}
	if a := post(t, url, h, body); a.status != 200 || a.body != `{"ok":true,"outcome":"duplicate"}` || runsOf("evt_ok") != 1 {
		t.Fatalf("duplicate: %+v, %d runs", a, runsOf("evt_ok"))
	}

	forged, _ := Sign([]string{"not-the-secret"}, body, time.Now().Unix())
	if a := post(t, url, forged, body); a.status != 401 || a.body != `{"error":"signature_mismatch","message":`+mismatchMessage+`}` {
		t.Fatalf("forged: %+v", a)
	}
	stale, _ := Sign([]string{testSecret}, envelope("evt_stale", "task.completed"), time.Now().Unix()-600)
	if a := post(t, url, stale, envelope("evt_stale", "task.completed")); a.status != 401 ||
		!strings.HasPrefix(a.body, `{"error":"timestamp_too_old","message":"timestamp too old: signed 60`) {
		t.Fatalf("stale: %+v", a)
	}
	if a := post(t, url, http.Header{"Anchor-Signature": {"t=1,v1=zz"}}, body); a.status != 400 ||
		a.body != `{"error":"malformed_header","message":"malformed header `+"`Anchor-Signature`: a `v1` value is not 64 hex digits"+`"}` {
		t.Fatalf("malformed: %+v", a)
	}
	big := []byte(`{"id":"evt_big","type":"t","created":"2026-05-24T12:18:05Z","data":{"x":"` + strings.Repeat("x", 5000) + `"}}`)
	bigHeaders, _ := Sign([]string{testSecret}, big, time.Now().Unix())
	if a := post(t, url, bigHeaders, big); a.status != 413 ||
		a.body != `{"error":"body_too_large","message":"body too large: more than the limit of 4096 bytes"}` {
		t.Fatalf("too large: %+v", a)
	}
	if runsOf("evt_stale") != 0 || runsOf("evt_big") != 0 {
		t.Fatal("the handler ran for a refused delivery")
	}

	// A handler answering 5xx releases the claim: the retry runs it again, then it is done.
	h, body = deliver("evt_fail")
	if a := post(t, url, h, body); a.status != 500 {
		t.Fatalf("failing handler: %+v", a)
	}
	if a := post(t, url, h, body); a.status != 204 || runsOf("evt_fail") != 2 {
		t.Fatalf("retry after a failure: %+v, %d runs", a, runsOf("evt_fail"))
	}
	if a := post(t, url, h, body); a.status != 200 || runsOf("evt_fail") != 2 {
		t.Fatalf("after success: %+v", a)
	}
	// So does a panicking handler.
	h, body = deliver("evt_panic")
	request, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(string(body)))
	request.Header = h
	if _, err := http.DefaultClient.Do(request); err == nil {
		t.Fatal("an aborted handler closes the connection")
	}
	if a := post(t, url, h, body); a.status != 204 || runsOf("evt_panic") != 2 {
		t.Fatalf("retry after a panic: %+v, %d runs", a, runsOf("evt_panic"))
	}

	// In progress on another request: 503 with Retry-After, the handler not run a second time.
	h, body = deliver("evt_slow")
	first := make(chan answerOf)
	go func() { first <- post(t, url, h, body) }()
	<-entered
	if a := post(t, url, h, body); a.status != 503 || a.retryAfter != "5" || a.body != `{"error":"in_progress"}` {
		t.Fatalf("in progress: %+v", a)
	}
	close(release)
	if a := <-first; a.status != 204 || runsOf("evt_slow") != 1 {
		t.Fatalf("the first request: %+v", a)
	}

	// A full store: while the one entry is a claim in progress (evt_hold's handler runs), a new event is
	// 503 with Retry-After, never a silent 200; once that id is completed, the oldest completed id makes room.
	tiny := NewMemoryStore(WithMaxEntries(1))
	tinyURL := listen(t, Middleware(v, tiny, handler))
	h, body = deliver("evt_hold")
	held := make(chan answerOf)
	go func() { held <- post(t, tinyURL, h, body) }()
	<-entered
	h, body = deliver("evt_two")
	if a := post(t, tinyURL, h, body); a.status != 503 || a.retryAfter != "5" || !strings.HasPrefix(a.body,
		`{"error":"store_unavailable","message":"dedupe store unavailable: the memory store is full of claims in progress`) ||
		runsOf("evt_two") != 0 {
		t.Fatalf("full store: %+v", a)
	}
	close(hold)
	if a := <-held; a.status != 204 {
		t.Fatalf("the held request: %+v", a)
	}
	if a := post(t, tinyURL, h, body); a.status != 204 || tiny.Len() != 1 || runsOf("evt_two") != 1 {
		t.Fatalf("full of a completed id: %+v, %d entries", a, tiny.Len())
	}
}

// Many goroutines, one verifier and one middleware: go test -race checks the Go side; the library is
// checked under valgrind and ASan by bindings-c/test.sh.
func TestConcurrentUse(t *testing.T) {
	v, _ := NewVerifier([]string{testSecret})
	body := envelope("evt_c", "task.completed")
	h, _ := Sign([]string{testSecret}, body, 1716544084)
	forged, _ := Sign([]string{"forger"}, body, 1716544084)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if (g+i)%2 == 0 {
					event, err := v.VerifyAt(body, h, time.Unix(1716544084, 0))
					if err != nil || event.ID != "evt_c" {
						errs <- fmt.Errorf("genuine: %v", err)
						return
					}
				} else if _, err := v.VerifyAt(body, forged, time.Unix(1716544084, 0)); !errors.Is(err, ErrSignatureMismatch) ||
					!strings.HasPrefix(err.(*Error).Message, "signature mismatch") {
					errs <- fmt.Errorf("forged: %v", err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if data, _ := json.Marshal(ErrorCodes()); len(data) == 0 {
		t.Fatal("catalogue")
	}
}

// A copy of a Verifier or MemoryStore outlives the original: the library handle is freed only once no copy
// can reach it (a cleanup tied to the first struct freed it under the copy: SIGSEGV in cgo).
func TestCopiesOutliveTheOriginal(t *testing.T) {
	body := envelope("evt_copy", "task.completed")
	h, err := Sign([]string{testSecret}, body, time.Now().Unix())
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := NewVerifier([]string{testSecret})
	if err != nil {
		t.Fatal(err)
	}
	verifierCopy := *verifier
	storeCopy := *NewMemoryStore()
	verifier = nil
	for i := 0; i < 5; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // cleanups run on their own goroutine
	}
	if _, err := verifierCopy.Verify(body, h); err != nil {
		t.Fatalf("the copy no longer verifies: %v", err)
	}
	if storeCopy.Len() != 0 {
		t.Fatalf("store copy: len %d", storeCopy.Len())
	}
	var zero Verifier
	var refused *Error
	if _, err := zero.Verify(body, h); !errors.As(err, &refused) {
		t.Fatalf("a zero Verifier: %v, want the package's *Error", err)
	}
}

// WithMaxBodyBytes(math.MaxInt): the read limit saturates instead of wrapping to a negative one (which
// read nothing, and every delivery failed as signature_mismatch).
func TestLargestBodyLimitStillReadsTheBody(t *testing.T) {
	body := envelope("evt_maxint", "task.completed")
	h, err := Sign([]string{testSecret}, body, time.Now().Unix())
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := NewVerifier([]string{testSecret}, WithMaxBodyBytes(math.MaxInt))
	if err != nil {
		t.Fatal(err)
	}
	request, _ := http.NewRequest(http.MethodPost, "http://example.test/hook", strings.NewReader(string(body)))
	request.Header = h
	if event, err := verifier.VerifyRequest(request); err != nil || event.ID != "evt_maxint" {
		t.Fatalf("VerifyRequest: %v, %v", event, err)
	}
}

// Store options that would turn dedupe off are refused, not clamped.
func TestStoreOptionsThatDisableDedupePanic(t *testing.T) {
	for name, option := range map[string]StoreOption{
		"WithMaxEntries(100000), WithDoneTTL(0s)":         WithDoneTTL(0),
		"WithMaxEntries(100000), WithDoneTTL(500ms)":      WithDoneTTL(500 * time.Millisecond),
		"WithMaxEntries(100000), WithDoneTTL(-1s)":        WithDoneTTL(-time.Second),
		"WithMaxEntries(0), WithDoneTTL(24h0m0s)":         WithMaxEntries(0),
		"WithMaxEntries(-10), WithDoneTTL(24h0m0s)":       WithMaxEntries(-10),
		"WithMaxEntries(100000), WithDoneTTL(1.5s)":       WithDoneTTL(1500 * time.Millisecond),
		"WithMaxEntries(100000), WithDoneTTL(1h0m0.001s)": WithDoneTTL(time.Hour + time.Millisecond),
	} {
		func() {
			defer func() {
				message := fmt.Sprint(recover())
				// The reason is the core's, the same in every language, naming the refused setting.
				want := "anchorwebhooks: " + name + ": invalid_argument: "
				if strings.HasSuffix(name, "WithDoneTTL(1.5s)") {
					want += "done TTL 1.5s is not a whole number of seconds (the TTL is counted in whole seconds): use 2s"
				} else if strings.HasSuffix(name, "WithDoneTTL(1h0m0.001s)") {
					want += "done TTL 1h0m0.001s is not a whole number of seconds (the TTL is counted in whole " +
						"seconds): use 1h0m1s"
				} else if strings.Contains(name, "WithMaxEntries(100000)") {
					want += "the done TTL must be at least 1 s: a shorter TTL forgets a completed " +
						"id at once, and every retry would run the handler again (the default is 24 h)"
				} else {
					want += "the maximum number of entries must be at least 1: a store with room for no id claims nothing, and every " +
						"delivery would be answered 503 (the default is 100000)"
				}
				if message != want {
					t.Errorf("%s: NewMemoryStore panicked with %q, want %q", name, message, want)
				}
			}()
			NewMemoryStore(option)
		}()
	}
}

// What the Middleware does when the request itself fails: a body the connection did not deliver asks for a
// retry (503; a 4xx would be final for the sender), a body an http.MaxBytesReader stopped is 413, and a
// request cancelled before the handler returned releases the claim so the retry runs the handler.
func TestMiddlewareOnFailingRequests(t *testing.T) {
	v, _ := NewVerifier([]string{testSecret})
	runs := 0
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs++
		if cancel, ok := r.Context().Value(cancelKey{}).(context.CancelFunc); ok {
			switch r.Context().Value(answerKey{}) {
			case "202 early": // answered before the work, then gave up on the cancellation
				w.WriteHeader(http.StatusAccepted)
				cancel()
			case "200 flushed": // acknowledged to the sender first, then cancelled while it worked
				w.WriteHeader(http.StatusOK)
				w.(http.Flusher).Flush()
				cancel()
			case "103 then 200": // early hints are not the answer
				cancel()
				w.WriteHeader(http.StatusEarlyHints)
				w.WriteHeader(http.StatusOK)
			case nil: // gave up without answering
				cancel()
			default: // the client went away while the handler worked; it answers anyway
				cancel()
				w.WriteHeader(r.Context().Value(answerKey{}).(int))
			}
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	m := Middleware(v, NewMemoryStore(), handler)
	body := envelope("evt_cancelled", "task.completed")
	h, err := Sign([]string{testSecret}, body, time.Now().Unix())
	if err != nil {
		t.Fatal(err)
	}
	request := func(reader io.Reader) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/hook", reader)
		r.Header = h.Clone()
		return r
	}
	cancelled := func(answer any) context.Context {
		ctx, cancel := context.WithCancel(context.Background())
		ctx = context.WithValue(ctx, cancelKey{}, cancel)
		if answer != nil {
			ctx = context.WithValue(ctx, answerKey{}, answer)
		}
		return ctx
	}

	recorder := httptest.NewRecorder()
	m.ServeHTTP(recorder, request(iotest.ErrReader(errors.New("connection reset by peer"))))
	if recorder.Code != 503 || recorder.Header().Get("Retry-After") != "5" || runs != 0 || strings.TrimSpace(recorder.Body.String()) !=
		`{"error":"unreadable_body","message":"the request body could not be read: connection reset by peer"}` {
		t.Fatalf("unreadable body: %d %q, %d runs", recorder.Code, recorder.Body, runs)
	}

	recorder = httptest.NewRecorder()
	limited := request(strings.NewReader(string(body)))
	limited.Body = http.MaxBytesReader(recorder, limited.Body, 10)
	m.ServeHTTP(recorder, limited)
	if recorder.Code != 413 || runs != 0 || strings.TrimSpace(recorder.Body.String()) !=
		`{"error":"body_too_large","message":"body too large: http.MaxBytesReader stopped it at 10 bytes"}` {
		t.Fatalf("MaxBytesReader: %d %q, %d runs", recorder.Code, recorder.Body, runs)
	}
	if _, err := v.VerifyRequest(limited); !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("VerifyRequest behind MaxBytesReader: %v", err)
	}

	// Cancelled while the handler worked: released (the retry runs it) unless the handler answered a 2xx
	// after the cancellation, its word that it finished anyway (a slow handler outlasting the sender's or a
	// proxy's timeout): then the event is done and the retry is a duplicate, not a second run.
	for i, c := range []struct {
		answer   any // what the handler does once cancelled (see the handler above)
		released bool
	}{
		{nil, true},            // gave up without answering
		{"202 early", true},    // its 202 came before the work it then gave up
		{499, true},            // answered the cancellation itself (nginx's "client closed request")
		{204, false},           // finished and answered after the cancellation
		{http.StatusOK, false}, // likewise
		{"200 flushed", false}, // the sender has its 200 and will not retry
		{"103 then 200", false},
	} {
		body = envelope(fmt.Sprintf("evt_cancelled_%d", i), "task.completed")
		if h, err = Sign([]string{testSecret}, body, time.Now().Unix()); err != nil {
			t.Fatal(err)
		}
		before := runs
		m.ServeHTTP(httptest.NewRecorder(), request(strings.NewReader(string(body))).WithContext(cancelled(c.answer)))
		recorder = httptest.NewRecorder()
		m.ServeHTTP(recorder, request(strings.NewReader(string(body))))
		if c.released && (recorder.Code != 204 || runs != before+2) {
			t.Fatalf("cancelled, %v: retry %d, %d runs (the claim must have been released)", c.answer, recorder.Code, runs-before)
		}
		if !c.released && (recorder.Code != 200 || runs != before+1 ||
			strings.TrimSpace(recorder.Body.String()) != `{"ok":true,"outcome":"duplicate"}`) {
			t.Fatalf("cancelled, %v: retry %d %q, %d runs (the event must be done)", c.answer, recorder.Code, recorder.Body, runs-before)
		}
	}
}

type cancelKey struct{}

type answerKey struct{}

// A nil (or zero) Verifier is the library's null_parameter from every method, with its message; VerifyRequest
// returns it too (it panicked) and leaves the request body unread.
func TestNilVerifierIsTheSameErrorEverywhere(t *testing.T) {
	body := envelope("evt_nil", "task.completed")
	h, err := Sign([]string{testSecret}, body, time.Now().Unix())
	if err != nil {
		t.Fatal(err)
	}
	const message = "null_parameter: `verifier` is NULL"
	want := Error{Code: CodeNullParameter, Number: 1000, HTTPStatus: 500, Message: message}
	var zero Verifier
	for name, v := range map[string]*Verifier{"nil": nil, "zero": &zero} {
		request := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(string(body)))
		request.Header = h
		verifyRequest := func() (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("panicked: %v", p)
				}
			}()
			_, err = v.VerifyRequest(request)
			return err
		}
		for call, err := range map[string]error{
			"Verify":          second(v.Verify(body, h)),
			"VerifyAt":        second(v.VerifyAt(body, h, time.Now())),
			"VerifySignature": second(v.VerifySignature(body, h)),
			"VerifyRequest":   verifyRequest(),
		} {
			var refused *Error
			if !errors.As(err, &refused) || *refused != want || !errors.Is(err, ErrNullParameter) ||
				err.Error() != "anchor-webhooks: "+message {
				t.Errorf("%s Verifier, %s: %#v, want %#v", name, call, err, &want)
			}
		}
		if rest, _ := io.ReadAll(request.Body); string(rest) != string(body) {
			t.Errorf("%s Verifier: VerifyRequest consumed the body (left %q)", name, rest)
		}
	}
}

// A body the connection failed to deliver is the package's *Error too (ErrUnreadableBody, 503 like
// Middleware's answer), wrapping the read error.
func TestVerifyRequestUnreadableBodyIsAnError(t *testing.T) {
	v, _ := NewVerifier([]string{testSecret})
	reset := errors.New("connection reset by peer")
	request := httptest.NewRequest(http.MethodPost, "/hook", iotest.ErrReader(reset))
	_, err := v.VerifyRequest(request)
	var refused *Error
	want := Error{Code: CodeUnreadableBody, Number: 0, HTTPStatus: 503,
		Message: "the request body could not be read: connection reset by peer"}
	if !errors.As(err, &refused) || refused.Code != want.Code || refused.Number != want.Number ||
		refused.HTTPStatus != want.HTTPStatus || refused.Message != want.Message ||
		!errors.Is(err, ErrUnreadableBody) || !errors.Is(err, reset) ||
		err.Error() != "anchor-webhooks: the request body could not be read: connection reset by peer" {
		t.Fatalf("unreadable body: %#v", err)
	}
}

// WithTolerance counts whole seconds: anything else is refused (900 ms used to become 0 s, so only a delivery
// signed in the very second passed).
func TestToleranceMustBeWholeSeconds(t *testing.T) {
	for tolerance, message := range map[time.Duration]string{
		900 * time.Millisecond: "invalid_argument: tolerance 900ms is not a whole number of seconds (the tolerance " +
			"is counted in whole seconds): use 1s",
		time.Nanosecond: "invalid_argument: tolerance 1ns is not a whole number of seconds (the tolerance " +
			"is counted in whole seconds): use 1s",
		90*time.Second + 500*time.Millisecond: "invalid_argument: tolerance 1m30.5s is not a whole number of seconds " +
			"(the tolerance is counted in whole seconds): use 1m31s",
		-time.Second: "invalid_argument: negative tolerance -1s",
	} {
		_, err := NewVerifier([]string{testSecret}, WithTolerance(tolerance))
		var refused *Error
		if !errors.As(err, &refused) || !errors.Is(err, ErrInvalidArgument) || refused.Message != message {
			t.Errorf("WithTolerance(%v): %#v, want %q", tolerance, err, message)
		}
	}
	body := envelope("evt_tolerance", "task.completed")
	h, _ := Sign([]string{testSecret}, body, 1716544084)
	for tolerance, passes := range map[time.Duration]bool{0: false, time.Second: true, 2 * time.Minute: true} {
		v, err := NewVerifier([]string{testSecret}, WithTolerance(tolerance))
		if err != nil {
			t.Fatalf("WithTolerance(%v): %v", tolerance, err)
		}
		// One second after signing: passes with any tolerance of at least 1 s.
		if _, err := v.VerifyAt(body, h, time.Unix(1716544085, 0)); (err == nil) != passes {
			t.Errorf("WithTolerance(%v), 1 s old: %v", tolerance, err)
		}
	}
}

// Sign refuses timestamps a verifier would refuse: negative ones (they were signed as 0) and the core's
// refusal of more than 12 digits (milliseconds).
func TestSignRefusesTimestampsItsVerifierRefuses(t *testing.T) {
	for timestamp, message := range map[int64]string{
		-5: "malformed timestamp in the timestamp given to sign (negative: -5): expected unix seconds as 1 to 12 " +
			"ASCII digits",
		1716544084000: "malformed timestamp in the timestamp given to sign (over 12 digits: milliseconds instead of " +
			"seconds?): expected unix seconds as 1 to 12 ASCII digits",
	} {
		h, err := Sign([]string{testSecret}, []byte(`{}`), timestamp)
		var refused *Error
		if h != nil || !errors.As(err, &refused) || !errors.Is(err, ErrMalformedTimestamp) ||
			refused.Number != 4 || refused.HTTPStatus != 400 || refused.Message != message {
			t.Errorf("Sign at %d: %v, %#v, want %q", timestamp, h, err, message)
		}
	}
	for _, timestamp := range []int64{0, 999999999999} {
		if _, err := Sign([]string{testSecret}, []byte(`{}`), timestamp); err != nil {
			t.Errorf("Sign at %d: %v", timestamp, err)
		}
	}
}

// The constants godoc shows as plain numbers are the header's values.
func TestGoConstantsEqualTheHeaders(t *testing.T) {
	if SchemeAnchor != cSchemeAnchor || SchemeStandard != cSchemeStandard || DefaultLease != cDefaultLease {
		t.Fatalf("SchemeAnchor %d, SchemeStandard %d, DefaultLease %v; the header says %d, %d, %v: update the Go "+
			"constants", SchemeAnchor, SchemeStandard, DefaultLease, cSchemeAnchor, cSchemeStandard, cDefaultLease)
	}
}
