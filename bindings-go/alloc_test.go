package anchorwebhooks

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// A body over the limit is refused before anything is allocated in proportion to it (SPEC §3.7: the
// verifier never reads beyond its limits): Verify does not size its output buffer from such a body.
func TestOversizedBodyIsRefusedWithoutAllocatingItsSize(t *testing.T) {
	v, err := NewVerifier([]string{testSecret}) // the default 1 MiB limit
	if err != nil {
		t.Fatal(err)
	}
	h, err := Sign([]string{testSecret}, envelope("evt_big", "task.completed"), time.Now().Unix())
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 64<<20)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = v.Verify(body, h)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("a 64 MiB body: %v", err)
	}
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 64<<10 {
		t.Fatalf("refusing a 64 MiB body allocated %d bytes (want under 64 KiB)", allocated)
	}
}

// VerifySignature allocates nothing when the signature verifies; a failure allocates the *Error and its
// message (and what builds them). Both counts are pinned so a change shows up here.
func TestVerifySignatureAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are pinned without -race (test.sh runs this test again without it)")
	}
	v, err := NewVerifier([]string{testSecret})
	if err != nil {
		t.Fatal(err)
	}
	body := envelope("evt_allocs", "task.completed")
	now := time.Now()
	h, err := Sign([]string{testSecret}, body, now.Unix())
	if err != nil {
		t.Fatal(err)
	}
	forged := h.Clone()
	// The last hex digit changed, whatever it was (a fixed "0" left one signature in 16 valid).
	signature := forged.Get("Anchor-Signature")
	last := map[bool]string{true: "1", false: "0"}[strings.HasSuffix(signature, "0")]
	forged.Set("Anchor-Signature", signature[:len(signature)-1]+last)
	if _, err := v.VerifySignatureAt(body, forged, now); !errors.Is(err, ErrSignatureMismatch) {
		t.Fatalf("forged: %v", err)
	}
	success := testing.AllocsPerRun(200, func() {
		if _, err := v.VerifySignatureAt(body, h, now); err != nil {
			t.Fatal(err)
		}
	})
	failure := testing.AllocsPerRun(200, func() { _, _ = v.VerifySignatureAt(body, forged, now) })
	if success != 0 || failure != verifySignatureFailureAllocs {
		t.Fatalf("VerifySignature allocations: %v on success (want 0), %v on failure (want %d); update the README "+
			"(Design notes) and this test if the change is intended", success, failure, verifySignatureFailureAllocs)
	}
}

// verifySignatureFailureAllocs: the *Error and its message (the README's Design notes).
const verifySignatureFailureAllocs = 2

// The secrets are copied into one buffer of the exact size: append never regrows it, so no earlier backing
// array (holding secret bytes) is left behind uncleared.
func TestSecretsArePackedIntoOneBuffer(t *testing.T) {
	secrets := []string{testSecret, testSecret[:17], testSecret[:5] + testSecret}
	packed, lens := packSecrets(secrets)
	if len(packed) != cap(packed) || len(lens) != len(secrets) {
		t.Fatalf("len %d cap %d, %d lengths", len(packed), cap(packed), len(lens))
	}
	// One allocation for the bytes, at most one for the lengths (small ones may live on the stack).
	if allocs := testing.AllocsPerRun(50, func() { packSecrets(secrets) }); allocs > 2 {
		t.Fatalf("packSecrets allocated %v times (want at most 2: the bytes and the lengths)", allocs)
	}
}

// An event's string fields are copies of their own size: keeping the IDs of many large deliveries keeps only
// the IDs alive, not a body-sized buffer each (they were views of it: 200 kept IDs of 64 KiB deliveries
// held 200 such buffers).
func TestKeptIDsDoNotPinTheDeliveryBuffers(t *testing.T) {
	v, err := NewVerifier([]string{testSecret})
	if err != nil {
		t.Fatal(err)
	}
	const deliveries, size = 200, 64 << 10
	padding := strings.Repeat("x", size)
	ids := make([]string, 0, deliveries)
	types := make([]EventType, 0, deliveries)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < deliveries; i++ {
		id := fmt.Sprintf("evt_kept_%03d", i)
		eventType := []string{"task.completed", "custom.type"}[i%2]
		body := []byte(fmt.Sprintf(`{"id":%q,"type":%q,"created":"2026-05-24T12:18:05Z","project_id":"p_1",`+
			`"text":"t","data":{"pad":%q}}`, id, eventType, padding))
		h, err := Sign([]string{testSecret}, body, time.Now().Unix(), SignID("dlv_"+id))
		if err != nil {
			t.Fatal(err)
		}
		event, err := v.Verify(body, h)
		if err != nil {
			t.Fatal(err)
		}
		if event.ID != id || string(event.Type) != eventType || event.ProjectID != "p_1" || event.Text != "t" ||
			event.DeliveryID != "dlv_"+id || len(event.Data) != size+len(`{"pad":""}`) {
			t.Fatalf("fields: %q %q %q %q %q, %d bytes of data", event.ID, event.Type, event.ProjectID, event.Text,
				event.DeliveryID, len(event.Data))
		}
		ids = append(ids, event.ID)
		types = append(types, event.Type)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	runtime.KeepAlive(ids)
	runtime.KeepAlive(types)
	t.Logf("%d kept IDs and types: the heap grew by %d KiB", deliveries, grown>>10)
	if grown > 2<<20 {
		t.Fatalf("keeping %d IDs and types of %d KiB deliveries keeps %d KiB of heap (want under 2 MiB): the "+
			"fields are views of the delivery's buffer", deliveries, size>>10, grown>>10)
	}
}
