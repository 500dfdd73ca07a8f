package sms

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

var testSecret = []byte("sms-secret-0123456789")

func TestSign(t *testing.T) {
	// From: printf '%s' '1772424000.{…}' | openssl dgst -sha256 -hmac 'sms-secret-0123456789'
	got := Sign(testSecret, time.Unix(1772424000, 0), []byte(`{"phone":"13800138000","text":"hi","id":"sms_1"}`))
	want := "t=1772424000,v1=df258b61cff18f2bc0174aa32c2ec3845c945ddf91a7eeccb79cdd6be88166db"
	if got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestHTTPGatewaySends(t *testing.T) {
	now := time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)
	type received struct {
		method, contentType, signature string
		body                           []byte
	}
	got := make(chan received, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- received{r.Method, r.Header.Get("Content-Type"), r.Header.Get("Hebao-Signature"), b}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()

	g, err := NewHTTPGateway(srv.URL+"/send", testSecret, 0, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Send(context.Background(), "13800138000", "验证码 123456"); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.method != "POST" || r.contentType != "application/json" {
		t.Errorf("%s with Content-Type %q, want POST application/json", r.method, r.contentType)
	}
	if want := Sign(testSecret, now, r.body); r.signature != want {
		t.Errorf("Hebao-Signature = %q, want %q", r.signature, want)
	}
	var m map[string]string
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	if !hebao.ValidID("sms", m["id"]) {
		t.Errorf("id %q is not an sms_ id", m["id"])
	}
	delete(m, "id")
	if diff := cmp.Diff(map[string]string{"phone": "13800138000", "text": "验证码 123456"}, m); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

func TestHTTPGatewayFailures(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // so the server notices when the client goes away
		switch r.URL.Path {
		case "/500":
			w.WriteHeader(http.StatusInternalServerError)
		case "/400":
			http.Error(w, "bad phone", http.StatusBadRequest)
		case "/redirect":
			http.Redirect(w, r, "/ok", http.StatusTemporaryRedirect)
		case "/hang":
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}
	}))
	defer srv.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	withPassword := strings.Replace(closed.URL, "http://", "http://user:hunter2@", 1)

	for _, target := range []string{srv.URL + "/500", srv.URL + "/400", srv.URL + "/redirect", srv.URL + "/hang", withPassword} {
		g, err := NewHTTPGateway(target, testSecret, 100*time.Millisecond, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = g.Send(context.Background(), "13800138000", "验证码 654321")
		if hebao.ErrorCode(err) != hebao.CodeUnavailable {
			t.Errorf("%s: %v, want unavailable", target, err)
			continue
		}
		for _, secret := range []string{"654321", "hunter2"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: the error shows %q: %v", target, secret, err)
			}
		}
	}

	// A caller that gives up stops the delivery too.
	g, _ := NewHTTPGateway(srv.URL+"/hang", testSecret, time.Minute, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.Send(ctx, "13800138000", "hi"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Send: %v, want context.Canceled", err)
	}
}

func TestNewHTTPGatewayRefuses(t *testing.T) {
	for _, tt := range []struct {
		url    string
		secret []byte
	}{
		{"", testSecret},
		{"sms.example.com/send", testSecret},
		{"ftp://sms.example.com/send", testSecret},
		{"https://", testSecret},
		{"https://sms.example.com/send", []byte("short")},
		{"https://sms.example.com/send", nil},
	} {
		if _, err := NewHTTPGateway(tt.url, tt.secret, 0, nil); err == nil {
			t.Errorf("NewHTTPGateway(%q, %d-byte secret) succeeded", tt.url, len(tt.secret))
		}
	}
}
