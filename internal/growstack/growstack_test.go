package growstack

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// A Body reads back exactly its bytes, however it is read.
func TestBodyReadsItsBytes(t *testing.T) {
	want := bytes.Repeat([]byte("0123456789"), 100)
	for _, size := range []int{1, 7, 512, 4096} {
		b := NewBody(want)
		var got []byte
		buf := make([]byte, size)
		for {
			n, err := b.Read(buf)
			got = append(got, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("read by %d: got %d bytes, want %d", size, len(got), len(want))
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// A request with a Body sends it whole over HTTP/2 and TLS.
func TestBodyOverHTTP2(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, r.Body)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	want := bytes.Repeat([]byte("x"), 40<<10) // more than one DATA frame
	req, err := NewRequest(t.Context(), http.MethodPost, srv.URL, want)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := req.GetBody(); err != nil || again.(*Body).r.Len() != len(want) {
		t.Fatalf("GetBody: %v", err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.ProtoMajor != 2 || !bytes.Equal(got, want) {
		t.Fatalf("HTTP/%d, echoed %d bytes of %d", resp.ProtoMajor, len(got), len(want))
	}
}

// A wrapped body reads back its bytes and closes what it wraps.
func TestWrapReadsAndCloses(t *testing.T) {
	want := bytes.Repeat([]byte("abc"), 1000)
	inner := &closeCounter{Reader: bytes.NewReader(want)}
	w := Wrap(inner)
	got, err := io.ReadAll(w)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes of %d: %v", len(got), len(want), err)
	}
	if err := w.Close(); err != nil || inner.closed != 1 {
		t.Fatalf("Close: %v, inner closed %d times", err, inner.closed)
	}
}

type closeCounter struct {
	io.Reader
	closed int
}

func (c *closeCounter) Close() error { c.closed++; return nil }
