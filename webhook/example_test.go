package webhook_test

import (
	"fmt"
	"time"

	"github.com/hebaopay/hebao/webhook"
)

func ExampleSign() {
	secret := []byte("whsec_test")
	body := []byte(`{"id":"evt_1"}`)
	fmt.Println(webhook.Sign(secret, time.Unix(1700000000, 0), body))
	// Output: t=1700000000,v1=c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925
}

func ExampleVerify() {
	secret := []byte("whsec_test")
	body := []byte(`{"id":"evt_1"}`)
	header := "t=1700000000,v1=c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925"

	sent := time.Unix(1700000000, 0)
	fmt.Println(webhook.Verify(secret, header, body, sent.Add(time.Minute), webhook.DefaultTolerance))
	fmt.Println(webhook.Verify(secret, header, []byte(`{"id":"evt_2"}`), sent, webhook.DefaultTolerance))
	fmt.Println(webhook.Verify(secret, header, body, sent.Add(time.Hour), webhook.DefaultTolerance))
	// Output:
	// <nil>
	// webhook: no signature in Hebao-Signature matches the body
	// webhook: the signature's timestamp is too old
}
