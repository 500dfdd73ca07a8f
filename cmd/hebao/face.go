package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/face"
)

// faceFlags say which face-check service to use.
type faceFlags struct {
	url        string
	secretFile string
}

func (f *faceFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&f.url, "face-url", getenv("HEBAO_FACE_URL"), "the operator's face-check service: each check is POSTed there as signed JSON")
	fs.StringVar(&f.secretFile, "face-secret-file", getenv("HEBAO_FACE_SECRET_FILE"), "the file holding the secret that signs requests to --face-url (or the secret itself in $HEBAO_FACE_SECRET)")
}

// faceVerifier chooses the face verifier and says what it is, for the startup text.
// Under --dev it is the development verifier, which accepts any image; otherwise the
// HTTP verifier when --face-url is set, with its secret from --face-secret-file or
// $HEBAO_FACE_SECRET. With neither, POST /v1/wallet/face-verification answers 503.
// A URL without a secret, or a secret without a URL, is refused.
func (m *Main) faceVerifier(f faceFlags, dev bool) (hebao.FaceVerifier, string, error) {
	if dev {
		if f.url != "" {
			fmt.Fprintln(m.Stderr, "warning: --face-url is ignored under --dev: the development face verifier accepts any image")
		}
		return face.Dev{}, "development verifier: accepts any image, checks nothing", nil
	}
	secret := []byte(m.Getenv("HEBAO_FACE_SECRET"))
	if f.secretFile != "" {
		b, err := os.ReadFile(f.secretFile)
		if err != nil {
			return nil, "", fmt.Errorf("read the face-check secret: %w", err)
		}
		secret = b
	}
	secret = bytes.TrimSpace(secret)
	switch {
	case f.url == "" && len(secret) == 0:
		return nil, "none: POST /v1/wallet/face-verification answers 503 until --face-url and --face-secret-file are set", nil
	case f.url == "":
		return nil, "", errors.New("a face-check secret is set but no --face-url (or $HEBAO_FACE_URL) to use it with")
	case len(secret) == 0:
		return nil, "", errors.New("--face-url needs the service's secret: --face-secret-file FILE, or $HEBAO_FACE_SECRET")
	}
	v, err := face.NewHTTPVerifier(f.url, secret, face.DefaultTimeout, nil)
	if err != nil {
		return nil, "", err
	}
	u, _ := url.Parse(f.url) // parsed by NewHTTPVerifier already
	return v, u.Scheme + "://" + u.Host + u.Path, nil
}
