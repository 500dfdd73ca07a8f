package webhook_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/inmem"
	"github.com/hebaopay/hebao/webhook"
)

// shopDNS is a Resolver for the order tests: two names of the shop's own network,
// one of the cloud metadata service and one public shop.
type shopDNS map[string]string

func (d shopDNS) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	a, ok := d[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return []net.IPAddr{{IP: net.ParseIP(a)}}, nil
}

var ordersDNS = shopDNS{
	"loop.example":  "127.0.0.1",
	"inner.example": "10.0.0.1",
	"meta.example":  "169.254.169.254",
	"shop.example":  "93.184.216.34",
}

// orderWorld is an OrderService on an in-memory store, checking notify_urls with
// policy, and a merchant to create orders for.
func orderWorld(t *testing.T, policy webhook.Policy) (*hebao.OrderService, hebao.Merchant) {
	t.Helper()
	now := time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st := inmem.New(clock)
	raw, err := hebao.GenerateKeyring()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := hebao.ParseKeyring(raw)
	if err != nil {
		t.Fatal(err)
	}
	ms := &hebao.MerchantService{Store: st, Keys: keys, Now: clock}
	nm, err := ms.Create(t.Context(), hebao.Actor{Kind: hebao.ActorSystem, ID: "test"}, "荷包咖啡")
	if err != nil {
		t.Fatal(err)
	}
	policy.Resolver = ordersDNS
	return &hebao.OrderService{Store: st, CheckURL: policy.CheckURL, Now: clock}, nm.Merchant
}

func TestOrderNotifyURL(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy webhook.Policy
		url    string
		ok     bool
	}{
		{"loopback literal", webhook.Policy{}, "https://127.0.0.1/n", false},
		{"private literal", webhook.Policy{}, "https://10.0.0.1/n", false},
		{"metadata literal", webhook.Policy{}, "https://169.254.169.254/latest", false},
		{"name of a loopback address", webhook.Policy{}, "https://loop.example/n", false},
		{"name of a private address", webhook.Policy{}, "https://inner.example/n", false},
		{"name of the metadata service", webhook.Policy{}, "https://meta.example/n", false},
		{"a public shop over http", webhook.Policy{}, "http://shop.example/n", false},
		{"a name that does not resolve", webhook.Policy{}, "https://nowhere.example/n", false},
		{"a public shop over https", webhook.Policy{}, "https://shop.example/n", true},

		// --dev lets a shop on the developer's machine be tested, and nothing more.
		{"dev: local shop over http", webhook.Policy{AllowHTTP: true, AllowLoopback: true}, "http://127.0.0.1:8080/n", true},
		{"dev: name of a loopback address", webhook.Policy{AllowHTTP: true, AllowLoopback: true}, "http://loop.example/n", true},
		{"dev: private literal", webhook.Policy{AllowHTTP: true, AllowLoopback: true}, "http://10.0.0.1/n", false},
		{"dev: metadata literal", webhook.Policy{AllowHTTP: true, AllowLoopback: true}, "http://169.254.169.254/latest", false},
		{"dev: name of a private address", webhook.Policy{AllowHTTP: true, AllowLoopback: true}, "https://inner.example/n", false},
		{"dev: name of the metadata service", webhook.Policy{AllowHTTP: true, AllowLoopback: true}, "https://meta.example/n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orders, m := orderWorld(t, tc.policy)
			const no = "T20261126-0001"
			o, created, err := orders.Create(t.Context(), m, hebao.OrderRequest{OutTradeNo: no, Amount: 1234, Subject: "两杯拿铁", NotifyURL: tc.url})
			if tc.ok {
				if err != nil || !created || o.NotifyURL != tc.url || o.Status != hebao.OrderNotPaid {
					t.Fatalf("Create with %s: %+v, %v, %v", tc.url, o, created, err)
				}
				if got, err := orders.Get(t.Context(), m, no); err != nil || got.ID != o.ID {
					t.Errorf("Get after Create: %+v, %v", got, err)
				}
				return
			}
			if code := hebao.ErrorCode(err); code != hebao.CodeNotifyURLForbidden || created {
				t.Fatalf("Create with %s: %v (%s), created %v; want notify_url_forbidden", tc.url, err, code, created)
			}
			// Nothing was stored: the number is free, and a good order may take it.
			if _, err := orders.Get(t.Context(), m, no); hebao.ErrorCode(err) != hebao.CodeNotFound {
				t.Errorf("Get after a refused order: %v, want not_found", err)
			}
			if _, created, err := orders.Create(t.Context(), m, hebao.OrderRequest{OutTradeNo: no, Amount: 1234, Subject: "两杯拿铁"}); err != nil || !created {
				t.Errorf("the same number without notify_url: created %v, %v", created, err)
			}
		})
	}
}
