package anchorwebhooks

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// settleTimeout bounds every wait for the emulator (never reached when things work; not a timing test).
const settleTimeout = 20 * time.Second

// cliPath is the anchor-webhooks binary: $ANCHOR_WEBHOOKS_CLI, else the default cargo target dir.
func cliPath(t *testing.T) string {
	path := os.Getenv("ANCHOR_WEBHOOKS_CLI")
	if path == "" {
		path = filepath.Join("..", "target", "debug", "anchor-webhooks")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the end-to-end test needs the CLI: build it with `cargo build -p anchor-webhooks-cli` "+
			"and set ANCHOR_WEBHOOKS_CLI (bindings-go/test.sh does both): %v", err)
	}
	return path
}

type emulator struct {
	base string
}

// startEmulator runs `anchor-webhooks serve` with a scaled retry schedule and plain-HTTP loopback targets.
func startEmulator(t *testing.T) emulator {
	cmd := exec.Command(cliPath(t), "serve", "--port", "0", "--allow-insecure-localhost", "--time-scale", "0.01")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		t.Fatalf("the emulator printed nothing; stderr: %s", stderr.String())
	}
	base, ok := strings.CutPrefix(lines.Text(), "emulator listening on ")
	if !ok {
		t.Fatalf("unexpected first line %q", lines.Text())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return emulator{base: base}
}

func (e emulator) call(t *testing.T, method, path string, body any) map[string]any {
	t.Helper()
	var payload io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		payload = bytes.NewReader(data)
	}
	request, _ := http.NewRequest(method, e.base+path, payload)
	request.Header.Set("anchor-api-key", "ak_local_test")
	request.Header.Set("Content-Type", "application/json")
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	var answer map[string]any
	_ = json.NewDecoder(response.Body).Decode(&answer)
	if response.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %v", method, path, response.StatusCode, answer)
	}
	return answer
}

// settled waits until the webhook's history has `expected` rows, all final; returns them.
func (e emulator) settled(t *testing.T, webhook string, expected int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(settleTimeout)
	for {
		page := e.call(t, http.MethodGet, "/v1/webhooks/"+webhook+"/events?limit=100", nil)
		var rows []map[string]any
		final := 0
		for _, row := range page["events"].([]any) {
			r := row.(map[string]any)
			rows = append(rows, r)
			switch r["status"] {
			case "succeeded", "failed", "dead":
				final++
			}
		}
		if len(rows) >= expected && final == len(rows) {
			return rows
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries to %s did not settle: %v", webhook, rows)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// swappable lets the test install a Middleware once the emulator has issued the webhook's secret.
type swappable struct{ handler atomic.Pointer[http.Handler] }

func (s *swappable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := s.handler.Load(); h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	http.Error(w, "not ready", http.StatusServiceUnavailable)
}

func (s *swappable) set(h http.Handler) { s.handler.Store(&h) }

// capture remembers the last delivery (headers and body) that reached a path, for the duplicate replay.
type capture struct {
	mu      sync.Mutex
	headers http.Header
	body    []byte
}

func (c *capture) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.headers, c.body = r.Header.Clone(), body
		c.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// The reference sender (`anchor-webhooks serve`) delivers to a real net/http server using Middleware:
// every event type verified and processed once, a forgery refused with 401, an endpoint answering 503
// then 200 processed exactly once (on the retry), and a replayed delivery answered 200 without running
// the handler again. Once with a MemoryStore, once with a RedisStore on a private redis-server.
func TestEndToEndWithTheEmulator(t *testing.T) {
	t.Run("memory store", func(t *testing.T) { endToEnd(t, NewMemoryStore()) })
	t.Run("redis store", func(t *testing.T) {
		server := startRedis(t, 0)
		endToEnd(t, newRedisStore(t, server.url(), fmt.Sprintf("go-e2e-%d", time.Now().UnixNano())))
	})
}

func endToEnd(t *testing.T, store Store) {
	emu := startEmulator(t)

	var mu sync.Mutex
	processed := map[string][]EventType{} // event id -> types seen by successful handler runs
	flakyRuns := 0
	record := func(event *Event) {
		mu.Lock()
		defer mu.Unlock()
		processed[event.ID] = append(processed[event.ID], event.Type)
	}
	hooks, flaky := &swappable{}, &swappable{}
	flakyCapture := &capture{}
	mux := http.NewServeMux()
	mux.Handle("/hooks", hooks)
	mux.Handle("/flaky", flakyCapture.wrap(flaky))
	base := listen(t, mux)

	// One webhook subscribed to every event type the Anchor emulator sends (the catalogue's `extraction.*`
	// types belong to the Standard Webhooks scheme).
	var anchorTypes []string
	for _, eventType := range EventTypes() {
		if !strings.HasPrefix(string(eventType), "extraction.") {
			anchorTypes = append(anchorTypes, string(eventType))
		}
	}
	created := emu.call(t, http.MethodPost, "/v1/webhooks",
		map[string]any{"url": base + "/hooks", "subscribed_events": anchorTypes})
	webhook, secret := created["id"].(string), created["secret"].(string)
	verifier, err := NewVerifier([]string{secret})
	if err != nil {
		t.Fatal(err)
	}
	hooks.set(Middleware(verifier, store, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		event, _ := EventFromContext(r.Context())
		record(event)
		w.WriteHeader(http.StatusOK)
	})))

	published := map[string]string{} // event id -> type
	for _, eventType := range anchorTypes {
		answer := emu.call(t, http.MethodPost, "/v1/events", map[string]any{"type": eventType, "data": map[string]any{}})
		published[answer["external_event_id"].(string)] = eventType
	}
	rows := emu.settled(t, webhook, len(published))
	for _, row := range rows {
		if row["status"] != "succeeded" || row["attempt"] != float64(1) || row["response_status"] != float64(200) {
			t.Errorf("delivery log row %v", row)
		}
	}
	mu.Lock()
	for id, eventType := range published {
		if got := processed[id]; len(got) != 1 || string(got[0]) != eventType {
			t.Errorf("event %s (%s): handler runs %v", id, eventType, got)
		}
	}
	mu.Unlock()
	if len(published) != 14 {
		t.Fatalf("%d event types published", len(published))
	}

	// A forgery: signed with a secret the receiver does not know.
	body := envelope("evt_forged", "task.completed")
	forged, _ := Sign([]string{"not-the-webhook-secret"}, body, time.Now().Unix())
	if a := post(t, base+"/hooks", forged, body); a.status != 401 || a.body != `{"error":"signature_mismatch","message":`+mismatchMessage+`}` {
		t.Fatalf("forgery: %+v", a)
	}
	mu.Lock()
	if _, ran := processed["evt_forged"]; ran {
		t.Fatal("the handler ran for a forgery")
	}
	mu.Unlock()

	// An endpoint answering 503, then 200: the sender retries, the event is processed exactly once.
	flakyHook := emu.call(t, http.MethodPost, "/v1/webhooks",
		map[string]any{"url": base + "/flaky", "subscribed_events": []string{"task.failed"}})
	flakyVerifier, err := NewVerifier([]string{flakyHook["secret"].(string)})
	if err != nil {
		t.Fatal(err)
	}
	flaky.set(Middleware(flakyVerifier, store, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		flakyRuns++
		first := flakyRuns == 1
		mu.Unlock()
		if first {
			http.Error(w, "simulated outage", http.StatusServiceUnavailable)
			return
		}
		event, _ := EventFromContext(r.Context())
		record(event)
		w.WriteHeader(http.StatusOK)
	})))
	test := emu.call(t, http.MethodPost, fmt.Sprintf("/v1/webhooks/%s/test", flakyHook["id"]),
		map[string]any{"event_type": "task.failed"})
	retried := test["external_event_id"].(string)
	rows = emu.settled(t, flakyHook["id"].(string), 1)
	if rows[0]["status"] != "succeeded" || rows[0]["attempt"] != float64(2) || rows[0]["external_event_id"] != retried {
		t.Fatalf("the flaky endpoint's delivery: %v", rows[0])
	}
	mu.Lock()
	if got := processed[retried]; flakyRuns != 2 || len(got) != 1 || got[0] != EventTaskFailed {
		t.Fatalf("flaky: %d handler runs, processed %v", flakyRuns, got)
	}
	mu.Unlock()

	// The same delivery again (a retry after a lost 200, or a replay): 200, the handler not run.
	flakyCapture.mu.Lock()
	replayHeaders, replayBody := flakyCapture.headers, flakyCapture.body
	flakyCapture.mu.Unlock()
	replayHeaders.Del("Content-Length")
	if a := post(t, base+"/flaky", replayHeaders, replayBody); a.status != 200 || a.body != `{"ok":true,"outcome":"duplicate"}` {
		t.Fatalf("duplicate: %+v", a)
	}
	mu.Lock()
	if flakyRuns != 2 || len(processed[retried]) != 1 {
		t.Fatalf("the duplicate ran the handler: %d runs", flakyRuns)
	}
	mu.Unlock()
}
