package qr_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image"
	"image/color"
	"image/png"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/hebaopay/hebao/qr"
)

const text = "https://pay.hebao.example/o/ord_01JDX6Q3G5A7X8N9M2K4P6R8T0"

// modules returns the QR code of text as the library draws it, border included.
func modules(t *testing.T, text string) [][]bool {
	t.Helper()
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	return q.Bitmap()
}

func TestPNG(t *testing.T) {
	want := modules(t, text)
	n := len(want)
	for _, tt := range []struct{ size, want int }{
		{256, 256},
		{128, 128},
		{300, 300},
		{1024, 1024},
		{0, 128},
		{-5, 128},
		{100, 128},
		{5000, 1024},
	} {
		b, err := qr.PNG(text, tt.size)
		if err != nil {
			t.Fatalf("PNG(%d): %v", tt.size, err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("PNG(%d) does not decode: %v", tt.size, err)
		}
		if got := img.Bounds(); got != image.Rect(0, 0, tt.want, tt.want) {
			t.Errorf("PNG(%d) is %v, want %dx%d", tt.size, got, tt.want, tt.want)
			continue
		}
		// Read the modules back at the centre of each and compare with the code,
		// quiet zone included.
		got := make([][]bool, n)
		for y := range n {
			got[y] = make([]bool, n)
			for x := range n {
				px := (2*x + 1) * tt.want / (2 * n)
				py := (2*y + 1) * tt.want / (2 * n)
				got[y][x] = dark(img.At(px, py))
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("PNG(%d) read back (-want +got):\n%s", tt.size, diff)
		}
	}
}

func dark(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r+g+b < 3*0x8000
}

// TestPNGLongText checks that a code with more modules than qr.MinSize pixels is not
// squeezed: it gets at least a pixel per module.
func TestPNGLongText(t *testing.T) {
	long := strings.Repeat("x", qr.MaxText)
	n := len(modules(t, long))
	b, err := qr.PNG(long, qr.MinSize)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds().Dx(); got < n || got < qr.MinSize {
		t.Errorf("PNG of %d modules is %d pixels wide", n, got)
	}
}

// svgDoc is the part of the SVG the tests read.
type svgDoc struct {
	XMLName xml.Name `xml:"http://www.w3.org/2000/svg svg"`
	ViewBox string   `xml:"viewBox,attr"`
	Shape   string   `xml:"shape-rendering,attr"`
	Rects   []struct {
		Width  string `xml:"width,attr"`
		Height string `xml:"height,attr"`
		Fill   string `xml:"fill,attr"`
	} `xml:"rect"`
	Paths []struct {
		D    string `xml:"d,attr"`
		Fill string `xml:"fill,attr"`
	} `xml:"path"`
}

var square = regexp.MustCompile(`M(\d+) (\d+)h1v1h-1z`)

func TestSVG(t *testing.T) {
	b, err := qr.SVG(text)
	if err != nil {
		t.Fatal(err)
	}
	var doc svgDoc
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("SVG does not parse: %v\n%s", err, b)
	}
	want := modules(t, text) // with the library's 4-module border, like the SVG's
	n := len(want)
	side := strconv.Itoa(n)
	if doc.ViewBox != "0 0 "+side+" "+side || doc.Shape != "crispEdges" {
		t.Errorf("svg viewBox=%q shape-rendering=%q, want %q, crispEdges", doc.ViewBox, doc.Shape, "0 0 "+side+" "+side)
	}
	if len(doc.Rects) != 1 || doc.Rects[0].Width != side || doc.Rects[0].Height != side || doc.Rects[0].Fill != "#fff" {
		t.Errorf("background: %+v, want one white %s×%s rect", doc.Rects, side, side)
	}
	if len(doc.Paths) != 1 || doc.Paths[0].Fill != "#000" {
		t.Fatalf("paths: %d, want one black path", len(doc.Paths))
	}
	d := doc.Paths[0].D
	if rest := square.ReplaceAllString(d, ""); rest != "" {
		t.Errorf("the path has more than unit squares: %.80q", rest)
	}
	got := make([][]bool, n)
	for i := range got {
		got[i] = make([]bool, n)
	}
	count := 0
	for _, m := range square.FindAllStringSubmatch(d, -1) {
		x, _ := strconv.Atoi(m[1])
		y, _ := strconv.Atoi(m[2])
		if x >= n || y >= n {
			t.Fatalf("a module at %d,%d is outside the %d×%d code", x, y, n, n)
		}
		got[y][x] = true
		count++
	}
	darkModules := 0
	for _, row := range want {
		for _, v := range row {
			if v {
				darkModules++
			}
		}
	}
	if count != darkModules {
		t.Errorf("the path has %d squares, the code %d dark modules", count, darkModules)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SVG modules (-want +got):\n%s", diff)
	}
	for _, ref := range []string{"href", "url(", "<image", "<script", "<style"} {
		if bytes.Contains(b, []byte(ref)) {
			t.Errorf("the SVG contains %q", ref)
		}
	}
}

// TestStable checks that the same text always gives the same code, and the same
// PNG and SVG bytes, so images can be cached.
func TestStable(t *testing.T) {
	if diff := cmp.Diff(modules(t, text), modules(t, text)); diff != "" {
		t.Errorf("two bitmaps of the same text differ:\n%s", diff)
	}
	if diff := cmp.Diff(modules(t, text), modules(t, text+"x")); diff == "" {
		t.Error("two texts give the same bitmap")
	}
	p1, _ := qr.PNG(text, 256)
	p2, _ := qr.PNG(text, 256)
	s1, _ := qr.SVG(text)
	s2, _ := qr.SVG(text)
	if !bytes.Equal(p1, p2) || !bytes.Equal(s1, s2) {
		t.Error("the same text gives different images")
	}
}

func TestLimits(t *testing.T) {
	long := strings.Repeat("x", qr.MaxText+1)
	if _, err := qr.PNG(long, 256); !errors.Is(err, qr.ErrTooLong) {
		t.Errorf("PNG of %d bytes: %v, want ErrTooLong", len(long), err)
	}
	if _, err := qr.SVG(long); !errors.Is(err, qr.ErrTooLong) {
		t.Errorf("SVG of %d bytes: %v, want ErrTooLong", len(long), err)
	}
	if _, err := qr.SVG(long[:qr.MaxText]); err != nil {
		t.Errorf("SVG of %d bytes: %v", qr.MaxText, err)
	}
	if _, err := qr.PNG("", 256); err == nil {
		t.Error("PNG of an empty text: no error")
	}
	if _, err := qr.SVG("二维码 支付"); err != nil {
		t.Errorf("SVG of UTF-8 text: %v", err)
	}
}
