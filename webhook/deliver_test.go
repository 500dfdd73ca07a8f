package webhook_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao/webhook"
)

// received is what a test receiver saw of one request.
type received struct {
	Method, ContentType, UserAgent, EventID, Signature string
	Body                                               string
}

// receiver starts a server on 127.0.0.1 that records each request and answers with
// answer.
func receiver(t *testing.T, answer http.HandlerFunc) (*httptest.Server, chan received) {
	t.Helper()
	got := make(chan received, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- received{
			Method:      r.Method,
			ContentType: r.Header.Get("Content-Type"),
			UserAgent:   r.Header.Get("User-Agent"),
			EventID:     r.Header.Get(webhook.EventIDHeader),
			Signature:   r.Header.Get(webhook.SignatureHeader),
			Body:        string(b),
		}
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

var dev = webhook.Policy{AllowHTTP: true, AllowLoopback: true}

func TestDeliver(t *testing.T) {
	srv, got := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "thanks")
	})
	now := time.Now()
	res := webhook.Deliver(context.Background(), dev.Client(webhook.DeliveryTimeout), srv.URL+"/notify", secret, "evt_1", body, now)
	if !res.OK() || res.Err != nil || res.StatusCode != 200 || res.ResponseSnippet != "thanks" || res.Duration <= 0 {
		t.Errorf("Deliver = %+v, want OK with the snippet %q", res, "thanks")
	}
	r := <-got
	want := received{
		Method:      "POST",
		ContentType: "application/json",
		UserAgent:   "Hebao-Webhook/1",
		EventID:     "evt_1",
		Signature:   webhook.Sign(secret, now, body),
		Body:        string(body),
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("the receiver got (-want +got):\n%s", diff)
	}
	if err := webhook.Verify(secret, r.Signature, []byte(r.Body), time.Now(), 0); err != nil {
		t.Errorf("Verify of the delivered request = %v", err)
	}
}

// TestClientRefusesLoopback checks the dial-time check: a URL that CheckURL would
// refuse, handed straight to Deliver, is never connected to.
func TestClientRefusesLoopback(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()

	client := webhook.Policy{AllowHTTP: true}.Client(webhook.DeliveryTimeout)
	res := webhook.Deliver(context.Background(), client, srv.URL, secret, "evt_1", body, time.Now())
	if res.OK() || res.StatusCode != 0 || !errors.Is(res.Err, webhook.ErrBadURL) {
		t.Errorf("Deliver = %+v, want an error matching ErrBadURL", res)
	}
	if res.Err != nil && !strings.Contains(res.Err.Error(), "loopback") {
		t.Errorf("Deliver's error = %q, want it to say loopback", res.Err)
	}
	// The same through a name: the check runs on the resolved address.
	res = webhook.Deliver(context.Background(), client, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1),
		secret, "evt_1", body, time.Now())
	if !errors.Is(res.Err, webhook.ErrBadURL) {
		t.Errorf("Deliver to localhost = %+v, want an error matching ErrBadURL", res)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the server was reached %d times, want 0", n)
	}
}

func TestClientIgnoresEnvironmentProxy(t *testing.T) {
	tr, ok := dev.Client(0).Transport.(*http.Transport)
	if !ok || tr.Proxy != nil {
		t.Errorf("Client's transport = %#v, want an *http.Transport without Proxy", tr)
	}
}

func TestDeliverDoesNotFollowRedirects(t *testing.T) {
	var followed atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed.Add(1) }))
	defer target.Close()
	srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	})

	res := webhook.Deliver(context.Background(), dev.Client(0), srv.URL, secret, "evt_1", body, time.Now())
	if res.OK() || res.Err != nil || res.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("Deliver = %+v, want the 307 itself", res)
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
}

func TestDeliverFailures(t *testing.T) {
	t.Run("server error", func(t *testing.T) {
		srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "database down", http.StatusInternalServerError)
		})
		res := webhook.Deliver(context.Background(), dev.Client(0), srv.URL, secret, "evt_1", body, time.Now())
		if res.OK() || res.Err != nil || res.StatusCode != 500 || res.ResponseSnippet != "database down\n" {
			t.Errorf("Deliver = %+v, want a 500 with its body", res)
		}
	})
	t.Run("time-out", func(t *testing.T) {
		srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		})
		res := webhook.Deliver(context.Background(), dev.Client(100*time.Millisecond), srv.URL, secret, "evt_1", body, time.Now())
		if res.OK() || res.Err == nil || res.StatusCode != 0 || res.Duration > 5*time.Second {
			t.Errorf("Deliver = %+v, want an error after about 100ms", res)
		}
	})
	t.Run("nobody listening", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		res := webhook.Deliver(context.Background(), dev.Client(0), srv.URL, secret, "evt_1", body, time.Now())
		if res.OK() || res.Err == nil || errors.Is(res.Err, webhook.ErrBadURL) {
			t.Errorf("Deliver = %+v, want a connection error", res)
		}
	})
	t.Run("not a URL", func(t *testing.T) {
		res := webhook.Deliver(context.Background(), dev.Client(0), "http://bad host/", secret, "evt_1", body, time.Now())
		if res.OK() || res.Err == nil {
			t.Errorf("Deliver = %+v, want an error", res)
		}
	})
	t.Run("2xx other than 200", func(t *testing.T) {
		srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
		res := webhook.Deliver(context.Background(), dev.Client(0), srv.URL, secret, "evt_1", body, time.Now())
		if !res.OK() || res.StatusCode != 204 {
			t.Errorf("Deliver = %+v, want OK", res)
		}
	})
}

func TestResponseSnippet(t *testing.T) {
	tests := []struct {
		name, answer, want string
	}{
		{"short", "ok", "ok"},
		{"long", strings.Repeat("x", 100_000), strings.Repeat("x", 256)},
		// 'é' is two bytes: the one cut in two at byte 256 is dropped.
		{"character cut", "a" + strings.Repeat("é", 200), "a" + strings.Repeat("é", 127)},
		{"not UTF-8", "ok\xff\xfe!", "ok\uFFFD!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tt.answer) })
			res := webhook.Deliver(context.Background(), dev.Client(0), srv.URL, secret, "evt_1", body, time.Now())
			if res.ResponseSnippet != tt.want || !utf8.ValidString(res.ResponseSnippet) {
				t.Errorf("ResponseSnippet = %q, want %q", res.ResponseSnippet, tt.want)
			}
			if !res.OK() {
				t.Errorf("Deliver = %+v, want OK", res)
			}
		})
	}
}

// TestDeliverReadsAtMost64KiB checks that an answer that never ends does not hold a
// delivery: Deliver stops reading after 64 KiB.
func TestDeliverReadsAtMost64KiB(t *testing.T) {
	srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", 64<<10+1)))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	res := webhook.Deliver(context.Background(), dev.Client(0), srv.URL, secret, "evt_1", body, time.Now())
	if !res.OK() || res.Duration > 2*time.Second {
		t.Errorf("Deliver = %+v, want OK at once", res)
	}
}

func TestResultOK(t *testing.T) {
	for _, tt := range []struct {
		r    webhook.Result
		want bool
	}{
		{webhook.Result{StatusCode: 200}, true},
		{webhook.Result{StatusCode: 299}, true},
		{webhook.Result{StatusCode: 199}, false},
		{webhook.Result{StatusCode: 300}, false},
		{webhook.Result{StatusCode: 404}, false},
		{webhook.Result{}, false},
		{webhook.Result{StatusCode: 200, Err: errors.New("x")}, false},
	} {
		if got := tt.r.OK(); got != tt.want {
			t.Errorf("%+v.OK() = %v, want %v", tt.r, got, tt.want)
		}
	}
}
