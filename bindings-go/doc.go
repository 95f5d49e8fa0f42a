// Package anchorwebhooks verifies signed webhook deliveries (Anchor-Signature and Standard Webhooks) and
// dedupes them by event id, through cgo over the anchor-webhooks C library (linked statically). It needs
// cgo, gcc, a Rust toolchain and the whole repository checkout: see the README for the build.
//
//	verifier, err := anchorwebhooks.NewVerifier([]string{os.Getenv("ANCHOR_WEBHOOK_SECRET")})
//	store := anchorwebhooks.NewMemoryStore() // one per endpoint; NewRedisStore(url) for several processes
//	http.Handle("/webhooks", anchorwebhooks.Middleware(verifier, store, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//		event, _ := anchorwebhooks.EventFromContext(r.Context()) // event.ID, event.Type, event.DecodeData(&v)
//		w.WriteHeader(http.StatusOK)                             // 2xx: done; 3xx, 408, 429, 5xx or a panic: retried
//	})))
//
// Middleware verifies each request, answers refusals, duplicates and in-progress deliveries itself, and runs
// the handler once per event (Wrap gives it as func(http.Handler) http.Handler, for routers). Receiver does
// the same outside net/http (Receive returns an Outcome: the kind and the status to answer).
// Verifier.Verify, VerifyRequest and VerifySignature verify by hand; Sign makes signed deliveries for tests.
package anchorwebhooks
