package webhook

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
)

// MaxURLLength is the longest notify_url accepted, in bytes.
const MaxURLLength = 2048

// ErrBadURL is matched (with errors.Is) by every error of Policy.CheckURL and by the
// error of a connection that Policy.Client refused. The error's own message says
// what is wrong in words safe to show the merchant; callers answer 422.
var ErrBadURL = errors.New("webhook: notify_url is not allowed")

// urlError is a refused notify_url: its message is for the merchant, and it matches
// ErrBadURL.
type urlError struct {
	msg string
	err error // the cause, if any; never shown
}

func (e *urlError) Error() string        { return e.msg }
func (e *urlError) Unwrap() error        { return e.err }
func (e *urlError) Is(target error) bool { return target == ErrBadURL }

func refuse(msg string) error { return &urlError{msg: msg} }

// Resolver looks up a host's addresses; *net.Resolver is one.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// Policy is the rules a notify_url must follow (SPEC §8), so that webhooks cannot be
// aimed at Hebao's own network (SSRF): https only, and no address that is loopback,
// private, link-local, shared (CGNAT), a cloud metadata service, multicast or
// otherwise not a public unicast address. The zero Policy is the production one;
// --dev sets AllowHTTP and AllowLoopback so that a shop on the developer's machine
// can be tested.
type Policy struct {
	AllowHTTP     bool     // http:// as well as https://
	AllowLoopback bool     // 127.0.0.0/8, ::1 and localhost
	Resolver      Resolver // nil: net.DefaultResolver
}

func (p Policy) resolver() Resolver {
	if p.Resolver == nil {
		return net.DefaultResolver
	}
	return p.Resolver
}

// CheckURL returns nil if raw is a notify_url the policy allows, and otherwise an
// error matching ErrBadURL with a message such as "notify_url resolves to a private
// address". It resolves the host, and refuses the URL if any of its addresses is
// refused: the client may dial any of them. A host that cannot be resolved is refused
// too. Passing is not enough to deliver safely, since the host may resolve elsewhere
// later: send with Client, which checks every address it dials.
func (p Policy) CheckURL(ctx context.Context, raw string) error {
	if raw == "" {
		return refuse("notify_url is empty")
	}
	if len(raw) > MaxURLLength {
		return refuse("notify_url is longer than " + strconv.Itoa(MaxURLLength) + " bytes")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return &urlError{msg: "notify_url is not a valid URL", err: err}
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && p.AllowHTTP:
	case u.Scheme == "http":
		return refuse("notify_url must use https")
	default:
		return refuse("notify_url must be an absolute https URL")
	}
	if u.Opaque != "" || u.Host == "" {
		return refuse("notify_url has no host")
	}
	if u.User != nil {
		return refuse("notify_url may not contain a user name or password")
	}
	if strings.HasSuffix(u.Host, ":") {
		return refuse("notify_url has an empty port")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return refuse("notify_url has an invalid port")
		}
	}
	host := u.Hostname()
	if strings.HasPrefix(u.Host, "[") {
		// An IPv6 literal; url.Parse has already checked the brackets.
		a, err := netip.ParseAddr(host)
		if err != nil || a.Zone() != "" {
			return refuse("notify_url has an invalid IPv6 address")
		}
		return p.checkAddr(a)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return p.checkAddr(a)
	}
	if err := p.checkHostname(host); err != nil {
		return err
	}
	addrs, err := p.resolver().LookupIPAddr(ctx, host)
	if err != nil {
		return &urlError{msg: "notify_url's host could not be resolved", err: err}
	}
	if len(addrs) == 0 {
		return refuse("notify_url's host has no address")
	}
	for _, ip := range addrs {
		a, ok := netip.AddrFromSlice(ip.IP)
		if !ok {
			return refuse("notify_url's host has an invalid address")
		}
		if err := p.checkAddr(a); err != nil {
			return err
		}
	}
	return nil
}

// checkHostname refuses a host name that is not plain DNS letters, digits, hyphens
// and dots, and one that a URL parser or resolver elsewhere might read as an IPv4
// address in an unusual form: "2130706433", "0x7f.1", "127.1", "0177.0.0.1",
// "1.2.3.4.". The WHATWG URL standard reads a host as IPv4 whenever its last label
// is a number, so such a name is refused whatever it resolves to here.
func (p Policy) checkHostname(host string) error {
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if name == "" || len(name) > 253 {
		return refuse("notify_url has an invalid host name")
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return refuse("notify_url has an invalid host name")
		}
		for _, c := range []byte(l) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return refuse("notify_url has an invalid host name (use punycode for international names)")
			}
		}
	}
	if numeric(labels[len(labels)-1]) {
		return refuse("notify_url's host looks like an IP address in a non-standard form")
	}
	if !p.AllowLoopback && (name == "localhost" || strings.HasSuffix(name, ".localhost")) {
		return refuse("notify_url resolves to a loopback address")
	}
	return nil
}

// numeric reports whether label is a decimal, octal or 0x hexadecimal number, as an
// IPv4 part.
func numeric(label string) bool {
	digits := "0123456789"
	if len(label) >= 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X') {
		label, digits = label[2:], "0123456789abcdefABCDEF"
		if label == "" {
			return true // "0x" alone is zero to inet_aton
		}
	}
	for _, c := range label {
		if !strings.ContainsRune(digits, c) {
			return false
		}
	}
	return label != ""
}

// A blocked range of addresses and the reason given for it.
type blocked struct {
	prefix netip.Prefix
	what   string
}

// blockedRanges are the addresses no webhook may reach, most specific first so that
// the message names the metadata service rather than its surrounding range. IPv4
// addresses are looked up unmapped, so ::ffff:10.0.0.1 is private like 10.0.0.1.
var blockedRanges = func() []blocked {
	list := []struct{ prefix, what string }{
		// Cloud metadata services: AWS, GCP, Azure, OpenStack; AWS over IPv6; Alibaba.
		{"169.254.169.254/32", "a cloud metadata address"},
		{"fd00:ec2::254/128", "a cloud metadata address"},
		{"100.100.100.200/32", "a cloud metadata address"},

		{"0.0.0.0/8", "an unspecified address"},
		{"::/128", "an unspecified address"},
		{"127.0.0.0/8", "a loopback address"},
		{"::1/128", "a loopback address"},
		{"10.0.0.0/8", "a private address"},
		{"172.16.0.0/12", "a private address"},
		{"192.168.0.0/16", "a private address"},
		{"fc00::/7", "a private address"},
		{"fec0::/10", "a private address"}, // the deprecated site-local range
		{"100.64.0.0/10", "a shared (carrier-grade NAT) address"},
		{"169.254.0.0/16", "a link-local address"},
		{"fe80::/10", "a link-local address"},
		{"224.0.0.0/4", "a multicast address"},
		{"ff00::/8", "a multicast address"},
		{"255.255.255.255/32", "the broadcast address"},
		// Not routed on the Internet: IETF protocol assignments, documentation,
		// benchmarking, the former class E, IPv4-compatible IPv6, discard-only,
		// local-use NAT64, IPv6 documentation.
		{"192.0.0.0/24", "a reserved address"},
		{"192.0.2.0/24", "a reserved address"},
		{"198.18.0.0/15", "a reserved address"},
		{"198.51.100.0/24", "a reserved address"},
		{"203.0.113.0/24", "a reserved address"},
		{"240.0.0.0/4", "a reserved address"},
		{"::/96", "a reserved address"},
		{"100::/64", "a reserved address"},
		{"64:ff9b:1::/48", "a reserved address"},
		{"2001:db8::/32", "a reserved address"},
	}
	out := make([]blocked, len(list))
	for i, b := range list {
		out[i] = blocked{netip.MustParsePrefix(b.prefix), b.what}
	}
	return out
}()

// The IPv6 ranges that embed an IPv4 address.
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// checkAddr refuses an address in blockedRanges, loopback excepted if the policy
// allows it. An IPv6 address that embeds an IPv4 one for translation (NAT64
// 64:ff9b::/96, 6to4 2002::/16) is judged by the IPv4 address it reaches.
func (p Policy) checkAddr(a netip.Addr) error {
	if !a.IsValid() {
		return refuse("notify_url resolves to an invalid address")
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		b := a.As16()
		switch {
		case nat64.Contains(a):
			return p.checkAddr(netip.AddrFrom4([4]byte(b[12:16])))
		case sixToFour.Contains(a):
			return p.checkAddr(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	if a.IsLoopback() && p.AllowLoopback {
		return nil
	}
	for _, r := range blockedRanges {
		if r.prefix.Contains(a) {
			return refuse("notify_url resolves to " + r.what)
		}
	}
	return nil
}

// control is the net.Dialer Control of Policy.Client: it runs after the name is
// resolved and before each connection is made, so it sees the very address dialed.
func (p Policy) control(network, address string, _ syscall.RawConn) error {
	switch network {
	case "tcp4", "tcp6":
	default:
		return refuse("notify_url: refused to dial over " + network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &urlError{msg: "notify_url: refused to dial " + address, err: err}
	}
	return p.checkAddr(ap.Addr())
}
