// Everything below the package clause is the Go example of docs/webhooks.md, word for
// word (TestDocExample keeps them the same), so that the code merchants copy compiles
// and is tested (TestReceiverExample).

package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// verify reports whether header, the Hebao-Signature of a request, signs body with
// secret and was made less than 5 minutes from now.
func verify(secret []byte, header string, body []byte, now time.Time) bool {
	var t string
	var sigs []string
	for _, field := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(field), "=")
		switch k {
		case "t":
			t = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	unix, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return false
	}
	if age := now.Sub(time.Unix(unix, 0)); age > 5*time.Minute || age < -5*time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(t + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range sigs {
		if got, err := hex.DecodeString(s); err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

// Event is the body of every webhook.
type Event struct {
	ID        string          `json:"id"`   // "evt_…": the same on every retry
	Type      string          `json:"type"` // order.paid, order.closed, refund.succeeded
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"` // the order or the refund
}

// webhookHandler answers Hebao's webhooks: it checks the signature, calls process
// once per event id, and answers 204 so that Hebao stops retrying. If process fails
// it answers 500, and Hebao sends the event again later.
func webhookHandler(secret []byte, process func(Event) error) http.Handler {
	var mu sync.Mutex
	done := map[string]bool{} // in a real shop: a table with a unique event id
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read the body", http.StatusBadRequest)
			return
		}
		if !verify(secret, r.Header.Get("Hebao-Signature"), body, time.Now()) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var e Event
		if err := json.Unmarshal(body, &e); err != nil || e.ID == "" {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if !done[e.ID] { // a duplicate is answered 204 and not processed again
			if err := process(e); err != nil {
				log.Printf("webhook %s: %v", e.ID, err)
				http.Error(w, "try again later", http.StatusInternalServerError)
				return
			}
			done[e.ID] = true
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func main() {
	secret := []byte(os.Getenv("HEBAO_WEBHOOK_SECRET"))
	http.Handle("POST /hebao/webhook", webhookHandler(secret, func(e Event) error {
		log.Printf("%s %s: %s", e.Type, e.ID, e.Data) // e.g. mark the order paid
		return nil
	}))
	log.Fatal(http.ListenAndServe(":8080", nil))
}
