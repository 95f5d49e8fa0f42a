package anchorwebhooks

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// benchEnvelope is the core's benchmark body (core/benches/verify.rs): a compact task.completed envelope
// with data.output.value padded so the body is exactly size bytes.
func benchEnvelope(size int) []byte {
	head := `{"id":"evt_2Zq7mW1xY8kR3tB6","type":"task.completed","created":"2026-05-24T12:18:05.123Z",` +
		`"project_id":"5d2c31f6-ab7e-481a-b6fd-8b4a96a4e197","text":"Task completed",` +
		`"data":{"task_id":"tsk_91c","artifacts":[],"output":{"value":"`
	tail := `"}}}`
	filler := "The quick brown fox jumps over the lazy dog; 0123456789. "
	pad := strings.Repeat(filler, size/len(filler)+1)[:size-len(head)-len(tail)]
	return []byte(head + pad + tail)
}

var benchSizes = []int{256, 4096, 65536}

const benchNow = 1716544084

func TestBenchReferenceAgrees(t *testing.T) {
	v, _ := NewVerifier([]string{testSecret})
	for _, size := range benchSizes {
		body := benchEnvelope(size)
		h, _ := Sign([]string{testSecret}, body, benchNow)
		if len(body) != size {
			t.Fatalf("body of %d bytes", len(body))
		}
		if _, err := v.VerifyAt(body, h, time.Unix(benchNow, 0)); err != nil {
			t.Fatal(err)
		}
		if _, err := pureGoVerify([]byte(testSecret), body, h, benchNow, 120); err != nil {
			t.Fatal(err)
		}
		forged, _ := Sign([]string{"other"}, body, benchNow)
		if _, err := pureGoVerifySignature([]byte(testSecret), body, forged, benchNow, 120); err == nil {
			t.Fatal("the reference accepts a forgery")
		}
		if _, err := pureGoVerifySignature([]byte(testSecret), body, h, benchNow+121, 120); err == nil {
			t.Fatal("the reference accepts a stale delivery")
		}
	}
}

// BenchmarkVerifySignature: the check alone (headers, timestamp, HMAC, constant-time compare), cgo
// crossing included, against the pure-Go reference. The targets apply here.
func BenchmarkVerifySignature(b *testing.B) {
	v, _ := NewVerifier([]string{testSecret})
	secret := []byte(testSecret)
	now := time.Unix(benchNow, 0)
	for _, size := range benchSizes {
		body := benchEnvelope(size)
		h, _ := Sign([]string{testSecret}, body, benchNow)
		b.Run(fmt.Sprintf("size=%d/impl=cgo", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for i := 0; i < b.N; i++ {
				if _, err := v.VerifySignatureAt(body, h, now); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("size=%d/impl=purego", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for i := 0; i < b.N; i++ {
				if _, err := pureGoVerifySignature(secret, body, h, benchNow, 120); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify: the check plus the envelope (Verify, an *Event with every field) against the pure-Go
// check plus encoding/json. For information.
func BenchmarkVerify(b *testing.B) {
	v, _ := NewVerifier([]string{testSecret})
	secret := []byte(testSecret)
	now := time.Unix(benchNow, 0)
	for _, size := range benchSizes {
		body := benchEnvelope(size)
		h, _ := Sign([]string{testSecret}, body, benchNow)
		b.Run(fmt.Sprintf("size=%d/impl=cgo", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for i := 0; i < b.N; i++ {
				if _, err := v.VerifyAt(body, h, now); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("size=%d/impl=purego", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for i := 0; i < b.N; i++ {
				if _, err := pureGoVerify(secret, body, h, benchNow, 120); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
