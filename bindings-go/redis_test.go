package anchorwebhooks

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const redisPassword = "go-test-password"

// redisServer is a private, password-protected redis-server on a loopback port, stopped when the test ends.
type redisServer struct {
	port int
	dir  string
	cmd  *exec.Cmd
}

// startRedis starts a private server (port 0: a free one) and waits until it answers.
func startRedis(t *testing.T, port int) *redisServer {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("the Redis store's tests need redis-server (scripts/ensure-redis.sh installs it; "+
			"bindings-go/test.sh runs it): %v", err)
	}
	if port == 0 {
		listener, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = listener.Addr().(*net.TCPAddr).Port
		_ = listener.Close()
	}
	server := &redisServer{port: port, dir: t.TempDir()}
	server.cmd = exec.Command(path, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--requirepass", redisPassword, "--dir", server.dir,
		"--logfile", filepath.Join(server.dir, "redis.log"))
	if err := server.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(server.stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			_ = conn.Close()
			return server
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(server.dir, "redis.log"))
			t.Fatalf("redis-server did not start on port %d: %s", port, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *redisServer) stop() {
	if s.cmd.Process != nil && s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

func (s *redisServer) url() string {
	return fmt.Sprintf("redis://:%s@127.0.0.1:%d/0", redisPassword, s.port)
}

// newRedisStore is a store on the server under prefix, or the test fails.
func newRedisStore(t *testing.T, url, prefix string, opts ...RedisOption) *RedisStore {
	t.Helper()
	store, err := NewRedisStore(url, append([]RedisOption{WithRedisKeyPrefix(prefix)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return store
}

func TestNewRedisStoreRefusesWhatCanNeverWork(t *testing.T) {
	pem := []byte("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n")
	cases := []struct {
		name    string
		url     string
		opts    []RedisOption
		message string
	}{
		{"not a Redis URL", "http://:hunter2@127.0.0.1:6379", nil, "invalid_argument: NewRedisStore: the URL: invalid " +
			"Redis URL: expected redis:// or rediss://[username:password@]host[:port][/db]"},
		{"#insecure", "rediss://:hunter2@127.0.0.1:6379/#insecure", nil, "invalid_argument: NewRedisStore: the URL: " +
			"invalid Redis URL: #insecure (TLS that accepts any server certificate) is not supported by this build; " +
			"trust the server's CA with WithRedisTLSRootCertificates instead"},
		{"timeout 0", "redis://127.0.0.1", []RedisOption{WithRedisTimeout(0)},
			"invalid_argument: NewRedisStore: WithRedisTimeout: 0s is not a whole number of milliseconds of at least 1 ms"},
		{"timeout with a fraction of a millisecond", "redis://127.0.0.1", []RedisOption{WithRedisTimeout(1500 * time.Microsecond)},
			"invalid_argument: NewRedisStore: WithRedisTimeout: 1.5ms is not a whole number of milliseconds of at least 1 ms"},
		{"done TTL 1.5 s", "redis://127.0.0.1", []RedisOption{WithRedisDoneTTL(1500 * time.Millisecond)},
			"invalid_argument: NewRedisStore: WithRedisDoneTTL: 1.5s is not a whole number of seconds of at least 1 s " +
				"(a completed id must be remembered long enough that a retry finds it)"},
		{"negative idle connections", "redis://127.0.0.1", []RedisOption{WithRedisMaxIdleConnections(-1)},
			"invalid_argument: NewRedisStore: WithRedisMaxIdleConnections: -1 is negative"},
		{"TLS roots with redis://", "redis://:hunter2@127.0.0.1", []RedisOption{WithRedisTLSRootCertificates(pem)},
			"invalid_argument: NewRedisStore: WithRedisTLSRootCertificates: TLS root certificates need a rediss:// URL, not redis://"},
		{"TLS roots that are not PEM", "rediss://127.0.0.1", []RedisOption{WithRedisTLSRootCertificates([]byte{})},
			"invalid_argument: NewRedisStore: WithRedisTLSRootCertificates: invalid TLS root certificates: expected PEM " +
				"with at least one CERTIFICATE block"},
		{"a prefix that is not UTF-8", "redis://127.0.0.1", []RedisOption{WithRedisKeyPrefix("a\xff")},
			"invalid_argument: NewRedisStore: WithRedisKeyPrefix is not valid UTF-8"},
	}
	for _, c := range cases {
		store, err := NewRedisStore(c.url, c.opts...)
		var refused *Error
		if store != nil || !errors.As(err, &refused) || !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v, %v", c.name, store, err)
			continue
		}
		if refused.Message != c.message {
			t.Errorf("%s:\n got %s\nwant %s", c.name, refused.Message, c.message)
		}
		if strings.Contains(refused.Message, "hunter2") {
			t.Errorf("%s: the password in the message: %s", c.name, refused.Message)
		}
	}
	if _, err := NewRedisStore("redis://127.0.0.1", WithRedisTimeout(250*time.Millisecond), WithRedisDoneTTL(time.Hour),
		WithRedisMaxIdleConnections(0), WithRedisKeyPrefix("")); err != nil {
		t.Errorf("valid options refused: %v", err)
	}
}

func TestRedisStoreCheck(t *testing.T) {
	server := startRedis(t, 0)
	if err := newRedisStore(t, server.url(), "go-check").Check(); err != nil {
		t.Fatalf("a working store: %v", err)
	}
	expect := func(name, url string, sentinel *Error, message string) {
		t.Helper()
		err := newRedisStore(t, url, "go-check", WithRedisTimeout(500*time.Millisecond)).Check()
		var checked *Error
		if !errors.Is(err, sentinel) || !errors.As(err, &checked) || !strings.HasPrefix(checked.Message, message) {
			t.Errorf("%s: %v (want %s, message starting %q)", name, err, sentinel.Code, message)
		}
		if err != nil && strings.Contains(err.Error(), redisPassword) {
			t.Errorf("%s: the password in the message: %v", name, err)
		}
	}
	base := fmt.Sprintf("127.0.0.1:%d", server.port)
	expect("wrong password", "redis://:wrong@"+base, ErrStoreMisconfigured,
		"store_misconfigured: redis: wrong user name or password, or the user is disabled (WRONGPASS)")
	expect("no password", "redis://"+base, ErrStoreMisconfigured, "store_misconfigured: redis: the server needs a password")
	expect("db out of range", fmt.Sprintf("redis://:%s@%s/99", redisPassword, base), ErrStoreMisconfigured,
		"store_misconfigured: redis: DB index 99 is out of range")
	expect("nothing listening", "redis://127.0.0.1:1", ErrStoreUnavailable, "store_unavailable: redis: connection refused")
	if ErrStoreMisconfigured.Number != 1004 || ErrStoreMisconfigured.HTTPStatus != 500 {
		t.Errorf("ErrStoreMisconfigured: %+v", ErrStoreMisconfigured)
	}
	if err := (&RedisStore{}).Check(); !errors.Is(err, ErrNullParameter) {
		t.Errorf("a zero RedisStore: %v", err)
	}
}

// Two replicas (two Middlewares, each with a store of its own, on one Redis server) behind two real
// servers: each event runs its handler once across both; a failure on one releases the claim for a retry
// reaching the other; a delivery in progress on one is answered 503 in_progress by the other.
func TestMiddlewareWithRedisAcrossReplicas(t *testing.T) {
	server := startRedis(t, 0)
	prefix := fmt.Sprintf("go-replicas-%d", time.Now().UnixNano())
	v, _ := NewVerifier([]string{testSecret})
	var runs sync.Map // event id -> *atomic.Int32
	release := make(chan struct{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		event, _ := EventFromContext(r.Context())
		counter, _ := runs.LoadOrStore(event.ID, new(atomic.Int32))
		run := counter.(*atomic.Int32).Add(1)
		switch {
		case event.ID == "evt_fails_once" && run == 1:
			http.Error(w, "simulated outage", http.StatusServiceUnavailable)
			return
		case event.ID == "evt_slow":
			<-release
		}
		_, _ = fmt.Fprintf(w, "processed by %s", r.Host)
	})
	replicaA := listen(t, Middleware(v, newRedisStore(t, server.url(), prefix), handler))
	replicaB := listen(t, Middleware(v, newRedisStore(t, server.url(), prefix), handler))
	runsOf := func(id string) int32 {
		counter, ok := runs.Load(id)
		if !ok {
			return 0
		}
		return counter.(*atomic.Int32).Load()
	}
	deliver := func(url, id string) answerOf {
		body := envelope(id, "task.completed")
		h, _ := Sign([]string{testSecret}, body, time.Now().Unix())
		return post(t, url, h, body)
	}
	const duplicate = `{"ok":true,"outcome":"duplicate"}`

	if a := deliver(replicaA, "evt_once"); a.status != 200 || !strings.HasPrefix(a.body, "processed by") {
		t.Fatalf("first delivery: %+v", a)
	}
	if b := deliver(replicaB, "evt_once"); b.status != 200 || b.body != duplicate || runsOf("evt_once") != 1 {
		t.Fatalf("the same event on the other replica: %+v, %d runs", b, runsOf("evt_once"))
	}
	if a := deliver(replicaA, "evt_fails_once"); a.status != 503 || runsOf("evt_fails_once") != 1 {
		t.Fatalf("failing handler: %+v", a)
	}
	if b := deliver(replicaB, "evt_fails_once"); b.status != 200 || runsOf("evt_fails_once") != 2 {
		t.Fatalf("the retry on the other replica: %+v, %d runs (the claim was released)", b, runsOf("evt_fails_once"))
	}
	if a := deliver(replicaA, "evt_fails_once"); a.body != duplicate || runsOf("evt_fails_once") != 2 {
		t.Fatalf("after the retry succeeded: %+v", a)
	}

	slow := make(chan answerOf, 1)
	go func() { slow <- deliver(replicaA, "evt_slow") }()
	for runsOf("evt_slow") == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	inProgress := deliver(replicaB, "evt_slow")
	close(release)
	if inProgress.status != 503 || inProgress.body != `{"error":"in_progress"}` || inProgress.retryAfter != "5" {
		t.Errorf("while the other replica runs it: %+v", inProgress)
	}
	if a := <-slow; a.status != 200 || runsOf("evt_slow") != 1 {
		t.Errorf("the slow delivery: %+v, %d runs", a, runsOf("evt_slow"))
	}
	if b := deliver(replicaB, "evt_slow"); b.body != duplicate {
		t.Errorf("the slow event afterwards: %+v", b)
	}
}

// The server killed: verified deliveries are answered 503 store_unavailable with Retry-After (reported, the
// handler not run), forgeries still 401; the server back on the same port: the same Middleware recovers.
func TestMiddlewareWithRedisDownAndBack(t *testing.T) {
	server := startRedis(t, 0)
	v, _ := NewVerifier([]string{testSecret})
	var runs atomic.Int32
	var refused []string
	var mu sync.Mutex
	store := newRedisStore(t, server.url(), fmt.Sprintf("go-down-%d", time.Now().UnixNano()),
		WithRedisTimeout(300*time.Millisecond))
	url := listen(t, Middleware(v, store, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs.Add(1)
	}), WithRejected(func(r *http.Request, err *Error) {
		mu.Lock()
		defer mu.Unlock()
		refused = append(refused, err.Code)
	})))
	body := envelope("evt_down", "task.completed")
	h, _ := Sign([]string{testSecret}, body, time.Now().Unix())
	if a := post(t, url, h, body); a.status != 200 || runs.Load() != 1 {
		t.Fatalf("with the server up: %+v", a)
	}
	server.stop()
	other := envelope("evt_while_down", "task.completed")
	otherHeaders, _ := Sign([]string{testSecret}, other, time.Now().Unix())
	down := post(t, url, otherHeaders, other)
	want := `{"error":"store_unavailable","message":"dedupe store unavailable: redis: connection refused; answer 503 ` +
		`so the sender retries"}`
	if down.status != 503 || down.retryAfter != "5" || down.body != want || runs.Load() != 1 {
		t.Errorf("server down: %+v, %d runs", down, runs.Load())
	}
	forged, _ := Sign([]string{"not-the-secret"}, other, time.Now().Unix())
	if a := post(t, url, forged, other); a.status != 401 {
		t.Errorf("forgery while down: %+v", a)
	}
	startRedis(t, server.port)
	if a := post(t, url, otherHeaders, other); a.status != 200 || runs.Load() != 2 {
		t.Errorf("server back: %+v, %d runs", a, runs.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(refused, ",") != "store_unavailable,signature_mismatch" {
		t.Errorf("reported refusals: %v", refused)
	}
}

// A hung server (SIGSTOP): at most WithRedisMaxConcurrentCalls deliveries wait on it, each answered 503
// store_unavailable within about the timeout; the others are answered 503 with the core's "busy" message
// after waiting for a turn without a thread; forgeries stay 401. The OS threads of the process stay bounded.
func TestMiddlewareWithAHungRedisBoundsTheWaitingCalls(t *testing.T) {
	server := startRedis(t, 0)
	v, _ := NewVerifier([]string{testSecret})
	store := newRedisStore(t, server.url(), fmt.Sprintf("go-hung-%d", time.Now().UnixNano()),
		WithRedisTimeout(400*time.Millisecond), WithRedisMaxConcurrentCalls(2))
	var runs atomic.Int32
	handler := Middleware(v, store, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { runs.Add(1) }),
		WithRejected(func(*http.Request, *Error) {}))
	url := listen(t, handler)
	if err := store.Check(); err != nil { // connections open before the server hangs
		t.Fatal(err)
	}
	if err := server.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = server.cmd.Process.Signal(syscall.SIGCONT) })
	const deliveries = 12
	answers := make(chan answerOf, deliveries)
	for i := 0; i < deliveries; i++ {
		go func() {
			body := envelope(fmt.Sprintf("evt_hung_%d", i), "task.completed")
			h, _ := Sign([]string{testSecret}, body, time.Now().Unix())
			answers <- post(t, url, h, body)
		}()
	}
	busy := `{"error":"store_unavailable","message":"dedupe store unavailable: redis: all 2 threads calling Redis ` +
		`were busy for longer than the 400 ms timeout, so this call was not sent (Redis is slow or unreachable); ` +
		`answer 503 so the sender retries"}`
	sent, notSent := 0, 0
	for i := 0; i < deliveries; i++ {
		a := <-answers
		switch {
		case a.status != 503 || a.retryAfter != "5":
			t.Errorf("delivery to a hung server: %+v", a)
		case a.body == busy:
			notSent++
		case strings.HasPrefix(a.body, `{"error":"store_unavailable","message":"dedupe store unavailable: redis: `):
			sent++
		default:
			t.Errorf("delivery to a hung server: %+v", a)
		}
	}
	// With 2 turns of 400 ms, at most a few of the 12 deliveries can have been sent in the time the others
	// waited for a turn; most must have been answered without one.
	if sent < 1 || sent > 6 || notSent < deliveries-6 || runs.Load() != 0 {
		t.Errorf("%d sent to Redis, %d answered without a turn, %d handler runs", sent, notSent, runs.Load())
	}
	forgedBody := envelope("evt_hung_forged", "task.completed")
	forged, _ := Sign([]string{"not-the-secret"}, forgedBody, time.Now().Unix())
	for i := 0; i < 3; i++ { // take both turns, then be the third
		go func() { answers <- post(t, url, forged, forgedBody) }()
	}
	for i := 0; i < 3; i++ {
		if a := <-answers; a.status != 401 {
			t.Errorf("a forgery while Redis hangs: %+v", a)
		}
	}
}

// A store that fails after the handler ran (the server hung during the handler) is reported through
// WithRejected with the core's "ran, but recording it as done failed" message, never silently. Stopping the
// server also sends this process SIGCHLD, which interrupts the blocked read (EINTR: a read with a timeout is
// not restarted): the store goes on with a new connection, so the failure is the timeout, not
// "Interrupted system call".
func TestAFailedCompleteIsReported(t *testing.T) {
	server := startRedis(t, 0)
	v, _ := NewVerifier([]string{testSecret})
	store := newRedisStore(t, server.url(), fmt.Sprintf("go-unsettled-%d", time.Now().UnixNano()),
		WithRedisTimeout(300*time.Millisecond))
	var mu sync.Mutex
	var reported []string
	url := listen(t, Middleware(v, store, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = server.cmd.Process.Signal(syscall.SIGSTOP) // the server hangs while the handler runs
	}), WithUnrecorded(func(r *http.Request, event *Event, status int, err *Error) {
		mu.Lock()
		defer mu.Unlock()
		reported = append(reported, fmt.Sprintf("%s %d %s: %s", event.ID, status, err.Code, err.Message))
	}), WithRejected(func(r *http.Request, err *Error) { t.Errorf("reported as a refusal: %v", err) })))
	t.Cleanup(func() { _ = server.cmd.Process.Signal(syscall.SIGCONT) })
	body := envelope("evt_unsettled", "task.completed")
	h, _ := Sign([]string{testSecret}, body, time.Now().Unix())
	if a := post(t, url, h, body); a.status != 200 {
		t.Errorf("the handler's answer stands: %+v", a)
	}
	_ = server.cmd.Process.Signal(syscall.SIGCONT)
	mu.Lock()
	defer mu.Unlock()
	want := "evt_unsettled 200 store_unavailable: dedupe store unavailable: the handler of event evt_unsettled ran, but recording it " +
		"as done failed (redis: timed out); a retry after the lease runs it again"
	if len(reported) != 1 || reported[0] != want {
		t.Errorf("reported: %q", reported)
	}
}

// A Check against a hung server reports no answer, also when signals interrupt its read (EINTR: a read with a
// timeout is not restarted; the Go runtime takes SIGCHLD, sent here by stopping and continuing a child): the
// store probes again on a new connection, never "Interrupted system call".
func TestCheckAgainstAHungServerIsNotInterrupted(t *testing.T) {
	server := startRedis(t, 0)
	store := newRedisStore(t, server.url(), fmt.Sprintf("go-check-eintr-%d", time.Now().UnixNano()),
		WithRedisTimeout(600*time.Millisecond))
	child := exec.Command("sleep", "60")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	if err := server.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = server.cmd.Process.Signal(syscall.SIGCONT) })
	for i := 0; i < 6; i++ {
		signalled := make(chan struct{})
		go func() { // two SIGCHLDs while the check waits for its answer
			defer close(signalled)
			time.Sleep(100 * time.Millisecond)
			_ = child.Process.Signal(syscall.SIGSTOP)
			time.Sleep(200 * time.Millisecond)
			_ = child.Process.Signal(syscall.SIGCONT)
		}()
		err := store.Check()
		<-signalled
		if !errors.Is(err, ErrStoreUnavailable) || strings.Contains(err.Error(), "nterrupted") {
			t.Fatalf("check %d against a hung server: %v", i, err)
		}
	}
}
