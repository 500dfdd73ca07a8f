package webhook_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/hebaopay/hebao/webhook"
)

// fakeDNS is a Resolver answering from a table; a name not in it does not exist. Like
// DNS it ignores case and a final dot.
type fakeDNS map[string][]string

func (d fakeDNS) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	addrs, ok := d[strings.TrimSuffix(strings.ToLower(host), ".")]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	out := make([]net.IPAddr, len(addrs))
	for i, a := range addrs {
		out[i] = net.IPAddr{IP: net.ParseIP(a)}
	}
	return out, nil
}

var dns = fakeDNS{
	"shop.example":      {"93.184.216.34"},
	"shop6.example":     {"2606:2800:220:1:248:1893:25c8:1946"},
	"both.example":      {"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"},
	"loop.example":      {"127.0.0.1"},
	"loop6.example":     {"::1"},
	"localhost":         {"127.0.0.1", "::1"},
	"private.example":   {"10.0.0.1"},
	"private6.example":  {"fd12:3456::1"},
	"mapped.example":    {"::ffff:192.168.1.1"},
	"metadata.example":  {"169.254.169.254"},
	"aws6.example":      {"fd00:ec2::254"},
	"alibaba.example":   {"100.100.100.200"},
	"cgnat.example":     {"100.64.0.1"},
	"linklocal.example": {"169.254.10.1"},
	"mixed.example":     {"93.184.216.34", "10.0.0.1"},
	"mixed6.example":    {"2606:2800:220:1:248:1893:25c8:1946", "fe80::1"},
	"empty.example":     {},
}

func TestCheckURL(t *testing.T) {
	const (
		ok        = ""
		https     = "notify_url must use https"
		absolute  = "notify_url must be an absolute https URL"
		loopback  = "notify_url resolves to a loopback address"
		private   = "notify_url resolves to a private address"
		metadata  = "notify_url resolves to a cloud metadata address"
		linkLocal = "notify_url resolves to a link-local address"
		oddIP     = "notify_url's host looks like an IP address in a non-standard form"
		badName   = "notify_url has an invalid host name"
	)
	prod := webhook.Policy{Resolver: dns}
	dev := webhook.Policy{Resolver: dns, AllowHTTP: true, AllowLoopback: true}
	httpOnly := webhook.Policy{Resolver: dns, AllowHTTP: true}
	tests := []struct {
		policy webhook.Policy
		url    string
		want   string // the start of the error's message; ok for none
	}{
		// Names, through the resolver.
		{prod, "https://shop.example/hebao/notify?x=1", ok},
		{prod, "https://Shop.Example./notify", ok},
		{prod, "https://shop.example:8443/notify", ok},
		{prod, "https://shop6.example/", ok},
		{prod, "https://both.example/", ok},
		{prod, "https://loop.example/", loopback},
		{prod, "https://loop6.example/", loopback},
		{prod, "https://localhost/", loopback},
		{prod, "https://api.localhost/", loopback},
		{prod, "https://private.example/", private},
		{prod, "https://private6.example/", private},
		{prod, "https://mapped.example/", private},
		{prod, "https://metadata.example/", metadata},
		{prod, "https://aws6.example/", metadata},
		{prod, "https://alibaba.example/", metadata},
		{prod, "https://cgnat.example/", "notify_url resolves to a shared (carrier-grade NAT) address"},
		{prod, "https://linklocal.example/", linkLocal},
		{prod, "https://mixed.example/", private},
		{prod, "https://mixed6.example/", linkLocal},
		{prod, "https://nowhere.example/", "notify_url's host could not be resolved"},
		{prod, "https://empty.example/", "notify_url's host has no address"},

		// IP literals, never resolved.
		{prod, "https://93.184.216.34/notify", ok},
		{prod, "https://[2606:2800:220:1:248:1893:25c8:1946]:443/", ok},
		{prod, "https://127.0.0.1/", loopback},
		{prod, "https://127.255.0.9:8080/", loopback},
		{prod, "https://[::1]/", loopback},
		{prod, "https://[::ffff:127.0.0.1]/", loopback},
		{prod, "https://[::ffff:7f00:1]/", loopback},
		{prod, "https://[::ffff:169.254.169.254]/", metadata},
		{prod, "https://[64:ff9b::7f00:1]/", loopback}, // NAT64
		{prod, "https://[2002:a00:1::1]/", private},    // 6to4 of 10.0.0.1
		{prod, "https://[::127.0.0.1]/", "notify_url resolves to a reserved address"},
		{prod, "https://10.1.2.3/", private},
		{prod, "https://172.16.0.1/", private},
		{prod, "https://172.31.255.255/", private},
		{prod, "https://172.32.0.1/", ok},
		{prod, "https://192.168.1.1/", private},
		{prod, "https://[fc00::1]/", private},
		{prod, "https://169.254.169.254/latest/meta-data/", metadata},
		{prod, "https://[fd00:ec2::254]/", metadata},
		{prod, "https://100.100.100.200/", metadata},
		{prod, "https://100.127.255.1/", "notify_url resolves to a shared (carrier-grade NAT) address"},
		{prod, "https://169.254.0.1/", linkLocal},
		{prod, "https://[fe80::1]/", linkLocal},
		{prod, "https://[fe80::1%25eth0]/", "notify_url has an invalid IPv6 address"},
		{prod, "https://0.0.0.0/", "notify_url resolves to an unspecified address"},
		{prod, "https://0.1.2.3/", "notify_url resolves to an unspecified address"},
		{prod, "https://[::]/", "notify_url resolves to an unspecified address"},
		{prod, "https://224.0.0.1/", "notify_url resolves to a multicast address"},
		{prod, "https://[ff02::1]/", "notify_url resolves to a multicast address"},
		{prod, "https://255.255.255.255/", "notify_url resolves to the broadcast address"},
		{prod, "https://240.0.0.1/", "notify_url resolves to a reserved address"},

		// IPv4 in the forms other parsers accept: refused without resolving.
		{prod, "https://2130706433/", oddIP},
		{prod, "https://0x7f000001/", oddIP},
		{prod, "https://0x7f.1/", oddIP},
		{prod, "https://127.1/", oddIP},
		{prod, "https://0177.0.0.1/", oddIP},
		{prod, "https://127.0.0.1./", oddIP},
		{prod, "https://shop.0x/", oddIP},
		{prod, "https://0xshop.example/", "notify_url's host could not be resolved"}, // a name, resolved

		// Scheme, user, host and port.
		{prod, "http://shop.example/", https},
		{httpOnly, "http://shop.example/", ok},
		{httpOnly, "http://127.0.0.1:8080/", loopback},
		{dev, "http://127.0.0.1:8080/", ok},
		{dev, "http://localhost:8080/", ok},
		{dev, "https://[::1]/", ok},
		{dev, "http://10.0.0.1/", private},
		{dev, "http://169.254.169.254/", metadata},
		{dev, "http://2130706433/", oddIP},
		{prod, "ftp://shop.example/", absolute},
		{prod, "shop.example/notify", absolute},
		{prod, "//shop.example/notify", absolute},
		{prod, "https:shop.example", "notify_url has no host"},
		{prod, "https:///notify", "notify_url has no host"},
		{prod, "https://user:pass@shop.example/", "notify_url may not contain a user name or password"},
		{prod, "https://user@shop.example/", "notify_url may not contain a user name or password"},
		{prod, "https://shop.example:/", "notify_url has an empty port"},
		{prod, "https://shop.example:0/", "notify_url has an invalid port"},
		{prod, "https://shop.example:65536/", "notify_url has an invalid port"},
		{prod, "https://:443/", badName},
		{prod, "https://münchen.example/", badName},
		{prod, "https://-shop.example/", badName},
		{prod, "https://shop..example/", badName},
		{prod, "https://shop.exa%20mple/", "notify_url is not a valid URL"},
		{prod, "", "notify_url is empty"},
		{prod, "https://shop.example/" + strings.Repeat("a", 2048), "notify_url is longer than 2048 bytes"},
		{prod, "https://shop.example/" + strings.Repeat("a", 2048-len("https://shop.example/")), ok},
	}
	for _, tt := range tests {
		err := tt.policy.CheckURL(context.Background(), tt.url)
		url := tt.url
		if len(url) > 60 {
			url = url[:60] + "…"
		}
		switch {
		case tt.want == ok && err != nil:
			t.Errorf("CheckURL(%q) = %v, want nil", url, err)
		case tt.want == ok:
		case err == nil:
			t.Errorf("CheckURL(%q) = nil, want %q", url, tt.want)
		case !strings.HasPrefix(err.Error(), tt.want):
			t.Errorf("CheckURL(%q) = %q, want %q", url, err, tt.want)
		case !errors.Is(err, webhook.ErrBadURL):
			t.Errorf("CheckURL(%q) = %v, which does not match ErrBadURL", url, err)
		}
	}
}

// TestCheckURLKeepsCause checks that a resolver's error stays reachable for logging.
func TestCheckURLKeepsCause(t *testing.T) {
	err := webhook.Policy{Resolver: dns}.CheckURL(context.Background(), "https://nowhere.example/")
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Errorf("CheckURL = %v, want it to wrap the resolver's *net.DNSError", err)
	}
}
