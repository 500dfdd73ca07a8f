package sms

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hebaopay/hebao"
)

// DefaultTimeout bounds one delivery to the operator's SMS service.
const DefaultTimeout = 10 * time.Second

// HTTPGateway sends each message to the operator's SMS service: a POST of the JSON
// object {"phone", "text", "id"} to URL, with the header
//
//	Hebao-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>
//
// the same scheme as merchant webhooks (SPEC §8), so the service can check that the
// message comes from Hebao and is fresh. Any answer but a 2xx is a failure;
// redirects are not followed, so a message is never posted anywhere else.
type HTTPGateway struct {
	url    string
	secret []byte
	client *http.Client
	now    func() time.Time
}

var _ hebao.SMS = (*HTTPGateway)(nil)

// NewHTTPGateway returns a gateway posting to rawURL, an http or https URL, signing
// with secret (at least 16 bytes). timeout bounds each delivery (DefaultTimeout if
// 0); now is the clock for signatures (time.Now if nil).
func NewHTTPGateway(rawURL string, secret []byte, timeout time.Duration, now func() time.Time) (*HTTPGateway, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("sms: the gateway URL must be an http:// or https:// URL")
	}
	if len(secret) < 16 {
		return nil, errors.New("sms: the gateway secret must be at least 16 bytes")
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if now == nil {
		now = time.Now
	}
	return &HTTPGateway{
		url:    rawURL,
		secret: secret,
		now:    now,
		client: &http.Client{
			Timeout: timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}, nil
}

// message is the JSON body the SMS service receives.
type message struct {
	Phone string `json:"phone"`
	Text  string `json:"text"`
	ID    string `json:"id"` // unique per message, for the service to drop duplicates
}

// Sign returns the Hebao-Signature header value for body sent at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// Send posts the message. Its errors never contain the text: they are logged, and
// the text holds a code.
// Errors: unavailable, when the service cannot be reached or does not answer 2xx.
func (g *HTTPGateway) Send(ctx context.Context, phone, text string) error {
	body, err := json.Marshal(message{Phone: phone, Text: text, ID: hebao.NewID("sms")})
	if err != nil {
		return fmt.Errorf("sms: encode message: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sms: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Hebao-Signature", Sign(g.secret, g.now(), body))
	resp, err := g.client.Do(req)
	if err != nil {
		// The error names the URL, and any credentials in it.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return unavailable(fmt.Errorf("sms: post to the gateway: %w", err))
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return unavailable(fmt.Errorf("sms: the gateway answered %s", resp.Status))
	}
	return nil
}

func unavailable(err error) error {
	e := hebao.Errorf(hebao.CodeUnavailable, "the SMS gateway cannot take messages now")
	e.Err = err
	return e
}
