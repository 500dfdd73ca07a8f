// Package face holds the face-check verifiers of SPEC §6: a development verifier,
// for `hebao serve --dev` only, and an HTTP verifier that asks the operator's
// face-check service.
package face

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/sms"
)

// Dev is the DEVELOPMENT face verifier: it accepts any non-empty image and checks
// nothing. It exists for `hebao serve --dev` and tests; never use it with real money.
type Dev struct{}

var _ hebao.FaceVerifier = Dev{}

// Verify implements hebao.FaceVerifier: true for any non-empty image.
func (Dev) Verify(_ context.Context, _, _ string, image []byte) (bool, error) {
	return len(image) > 0, nil
}

// DefaultTimeout bounds one check by the operator's service.
const DefaultTimeout = 10 * time.Second

// HTTPVerifier asks the operator's face-check service: a POST of the JSON object
// {"customer_id", "name", "image" (base64)} to URL, signed as the SMS gateway signs
// (header Hebao-Signature, see sms.Sign), answered 200 {"match": true|false}. Any
// other answer is a failure (unavailable); redirects are not followed.
type HTTPVerifier struct {
	url    string
	secret []byte
	now    func() time.Time
	client *http.Client
}

var _ hebao.FaceVerifier = (*HTTPVerifier)(nil)

// NewHTTPVerifier returns a verifier posting to rawURL, an http or https URL, signing
// with secret (at least 16 bytes); now is the clock of signatures (time.Now if nil).
func NewHTTPVerifier(rawURL string, secret []byte, timeout time.Duration, now func() time.Time) (*HTTPVerifier, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("face: the service URL must be an http:// or https:// URL")
	}
	if len(secret) < 16 {
		return nil, errors.New("face: the service secret must be at least 16 bytes")
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if now == nil {
		now = time.Now
	}
	return &HTTPVerifier{url: rawURL, secret: secret, now: now, client: &http.Client{
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

// Verify implements hebao.FaceVerifier. Its errors never hold the name or the image.
// Errors: unavailable.
func (v *HTTPVerifier) Verify(ctx context.Context, customerID, realName string, image []byte) (bool, error) {
	body, err := json.Marshal(struct {
		CustomerID string `json:"customer_id"`
		Name       string `json:"name"`
		Image      []byte `json:"image"`
	}{customerID, realName, image})
	if err != nil {
		return false, fmt.Errorf("face: encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.url, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("face: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Hebao-Signature", sms.Sign(v.secret, v.now(), body))
	resp, err := v.client.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err // the URL may hold credentials
		}
		return false, unavailable(fmt.Errorf("face: post to the service: %w", err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return false, unavailable(fmt.Errorf("face: the service answered %s", resp.Status))
	}
	var out struct {
		Match *bool `json:"match"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&out); err != nil || out.Match == nil {
		return false, unavailable(errors.New(`face: the service's answer is not {"match": true|false}`))
	}
	return *out.Match, nil
}

func unavailable(err error) error {
	e := hebao.Errorf(hebao.CodeUnavailable, "the face-check service cannot answer now; try again later")
	e.Err = err
	return e
}
