package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/sms"
)

// smsFlags say how SMS are sent: the operator's HTTP service, or under --dev the
// development inbox.
type smsFlags struct {
	url        string
	secretFile string
}

func (f *smsFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&f.url, "sms-url", getenv("HEBAO_SMS_URL"), "the operator's SMS service: each message is POSTed there as signed JSON")
	fs.StringVar(&f.secretFile, "sms-secret-file", getenv("HEBAO_SMS_SECRET_FILE"), "the file holding the secret that signs messages to --sms-url (or the secret itself in $HEBAO_SMS_SECRET)")
}

// smsSetup is how this server sends SMS.
type smsSetup struct {
	gateway hebao.SMS     // nil: none configured, and POST /v1/otp answers 503
	inbox   *sms.DevInbox // the development inbox, under --dev only
	url     string        // the HTTP gateway's URL, for the startup text
}

// smsGateway chooses the SMS gateway. Under --dev it is the development inbox,
// printing every message to console; otherwise the HTTP gateway when --sms-url is
// set, with its secret from --sms-secret-file or $HEBAO_SMS_SECRET. With neither, the
// server still starts — health, metrics and verify need no SMS — and POST /v1/otp
// answers 503 unavailable. A URL without a secret, or a secret without a URL, is a
// mistake, and serve refuses to start.
func (m *Main) smsGateway(f smsFlags, dev bool, console io.Writer) (smsSetup, error) {
	if dev {
		if f.url != "" {
			fmt.Fprintln(m.Stderr, "warning: --sms-url is ignored under --dev: SMS go to the development inbox")
		}
		inbox := sms.NewDevInbox(console, sms.DefaultKeep, nil)
		return smsSetup{gateway: inbox, inbox: inbox}, nil
	}
	secret := []byte(m.Getenv("HEBAO_SMS_SECRET"))
	if f.secretFile != "" {
		b, err := os.ReadFile(f.secretFile)
		if err != nil {
			return smsSetup{}, fmt.Errorf("read the SMS gateway secret: %w", err)
		}
		secret = b
	}
	secret = bytes.TrimSpace(secret)
	switch {
	case f.url == "" && len(secret) == 0:
		return smsSetup{}, nil
	case f.url == "":
		return smsSetup{}, errors.New("an SMS gateway secret is set but no --sms-url (or $HEBAO_SMS_URL) to use it with")
	case len(secret) == 0:
		return smsSetup{}, errors.New("--sms-url needs the gateway's secret: --sms-secret-file FILE, or $HEBAO_SMS_SECRET")
	}
	g, err := sms.NewHTTPGateway(f.url, secret, sms.DefaultTimeout, nil)
	if err != nil {
		return smsSetup{}, err
	}
	return smsSetup{gateway: g, url: f.url}, nil
}

// describe says where SMS go, for the startup text; base is the server's URL.
func (s smsSetup) describe(base string) string {
	switch {
	case s.inbox != nil:
		return "SMS inbox        " + base + "/v1/dev/sms?phone=13800138000 (development: SMS are never sent; they are kept there and printed below)"
	case s.gateway != nil:
		// Only scheme, host and path: the rest may hold credentials.
		u, _ := url.Parse(s.url) // parsed by NewHTTPGateway already
		return "SMS gateway      " + u.Scheme + "://" + u.Host + u.Path
	}
	return "SMS gateway      none: POST /v1/otp answers 503 until --sms-url and --sms-secret-file are set"
}
