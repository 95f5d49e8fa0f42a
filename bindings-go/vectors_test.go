package anchorwebhooks

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type vectorFile struct {
	Format int          `json:"format"`
	Scheme string       `json:"scheme"`
	Cases  []vectorCase `json:"cases"`
}

type vectorCase struct {
	Name         string      `json:"name"`
	Secrets      []string    `json:"secrets"`
	Tolerance    *int        `json:"tolerance"`
	MaxBodyBytes *int        `json:"max_body_bytes"`
	Now          int64       `json:"now"`
	Headers      [][2]string `json:"headers"`
	Body         *string     `json:"body"`
	BodyBase64   *string     `json:"body_base64"`
	Expect       struct {
		OK            bool    `json:"ok"`
		Error         string  `json:"error"`
		MatchedSecret int     `json:"matched_secret"`
		Timestamp     int64   `json:"timestamp"`
		ID            string  `json:"id"`
		Type          string  `json:"type"`
		DeliveryID    *string `json:"delivery_id"`
		CreatedMs     *int64  `json:"created_ms"`
	} `json:"expect"`
}

// createdMs is the event's creation time in whole unix milliseconds, rounded down; nil when it has none.
func createdMs(event *Event) *int64 {
	if !event.HasCreated {
		return nil
	}
	ms := event.Created.Unix()*1000 + int64(event.Created.Nanosecond())/1_000_000
	return &ms
}

func readVectors(t *testing.T, name string, into any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "tests", "vectors", name))
	if err != nil {
		t.Fatalf("reading the shared vectors: %v", err)
	}
	if err := json.Unmarshal(data, into); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func sentinelFor(t *testing.T, code string) *Error {
	t.Helper()
	for _, s := range sentinels {
		if s.Code == code {
			return s
		}
	}
	t.Fatalf("no sentinel for %q", code)
	return nil
}

// headerOf keeps every pair as given: names in any case and repeated names stay distinct entries.
func headerOf(pairs [][2]string) http.Header {
	h := http.Header{}
	for _, pair := range pairs {
		h[pair[0]] = append(h[pair[0]], pair[1])
	}
	return h
}

func TestVectors(t *testing.T) {
	for _, file := range []string{"anchor.json", "standard.json"} {
		var vectors vectorFile
		readVectors(t, file, &vectors)
		if vectors.Format != 1 || len(vectors.Cases) == 0 {
			t.Fatalf("%s: format %d with %d cases", file, vectors.Format, len(vectors.Cases))
		}
		scheme := map[string]Scheme{"anchor": SchemeAnchor, "standard": SchemeStandard}[vectors.Scheme]
		for _, c := range vectors.Cases {
			t.Run(file+"/"+c.Name, func(t *testing.T) {
				opts := []Option{WithScheme(scheme)}
				if c.Tolerance != nil {
					opts = append(opts, WithTolerance(time.Duration(*c.Tolerance)*time.Second))
				}
				if c.MaxBodyBytes != nil {
					opts = append(opts, WithMaxBodyBytes(*c.MaxBodyBytes))
				}
				v, err := NewVerifier(c.Secrets, opts...)
				if err != nil {
					t.Fatalf("NewVerifier: %v", err)
				}
				body := []byte{}
				if c.Body != nil {
					body = []byte(*c.Body)
				} else if body, err = base64.StdEncoding.DecodeString(*c.BodyBase64); err != nil {
					t.Fatal(err)
				}
				event, err := v.VerifyAt(body, headerOf(c.Headers), time.Unix(c.Now, 0))
				if !c.Expect.OK {
					var refused *Error
					if !errors.As(err, &refused) || refused.Code != c.Expect.Error {
						t.Fatalf("got %v, expected %s", err, c.Expect.Error)
					}
					if !errors.Is(err, sentinelFor(t, c.Expect.Error)) {
						t.Fatalf("errors.Is(%v, sentinel %s) is false", err, c.Expect.Error)
					}
					if refused.Message == "" || refused.HTTPStatus < 400 {
						t.Fatalf("message %q, status %d", refused.Message, refused.HTTPStatus)
					}
					return
				}
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				deliveryID := ""
				if c.Expect.DeliveryID != nil {
					deliveryID = *c.Expect.DeliveryID
				}
				if event.ID != c.Expect.ID || string(event.Type) != c.Expect.Type ||
					event.MatchedSecret != c.Expect.MatchedSecret || event.Timestamp != c.Expect.Timestamp ||
					event.DeliveryID != deliveryID {
					t.Fatalf("got id=%q type=%q matched=%d ts=%d delivery=%q, expected %+v", event.ID, event.Type,
						event.MatchedSecret, event.Timestamp, event.DeliveryID, c.Expect)
				}
				if got, want := createdMs(event), c.Expect.CreatedMs; (got == nil) != (want == nil) || (got != nil && *got != *want) {
					t.Fatalf("created %v (%s), expected %v ms", got, event.Created, c.Expect.CreatedMs)
				}
				if !json.Valid(event.Data) {
					t.Fatalf("data is not JSON: %q", event.Data)
				}
			})
		}
	}
}

func TestSecretVectors(t *testing.T) {
	var vectors struct {
		Format int `json:"format"`
		Cases  []struct {
			Name    string   `json:"name"`
			Scheme  string   `json:"scheme"`
			Secrets []string `json:"secrets"`
			Expect  struct {
				OK    bool   `json:"ok"`
				Error string `json:"error"`
			} `json:"expect"`
		} `json:"cases"`
	}
	readVectors(t, "secrets.json", &vectors)
	if vectors.Format != 1 || len(vectors.Cases) == 0 {
		t.Fatalf("secrets.json: format %d with %d cases", vectors.Format, len(vectors.Cases))
	}
	for _, c := range vectors.Cases {
		t.Run(c.Name, func(t *testing.T) {
			scheme := map[string]Scheme{"anchor": SchemeAnchor, "standard": SchemeStandard}[c.Scheme]
			_, err := NewVerifier(c.Secrets, WithScheme(scheme))
			if c.Expect.OK {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidSecret) || c.Expect.Error != CodeInvalidSecret {
				t.Fatalf("got %v, expected %s", err, c.Expect.Error)
			}
			for _, secret := range c.Secrets {
				if len(secret) >= 8 && strings.Contains(err.Error(), secret) {
					t.Fatalf("the message shows a secret: %v", err)
				}
			}
		})
	}
}
