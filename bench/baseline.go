package bench

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pushlab/pushlab/internal/pushcrypto"
	"github.com/pushlab/pushlab/internal/testpki"
	"github.com/pushlab/pushlab/mockapns"
)

// baselines measures, in this run, the references of the README's targets:
// the stdlib crypto primitives against pushcrypto, and a bare HTTP/2+TLS
// handler against mockapns driven by the same client.
func (r *runner) baselines(ctx context.Context, rep *Report) error {
	prim, ours, err := cryptoBaselines()
	if err != nil {
		return err
	}
	rep.Baselines = append(rep.Baselines, prim, ours)
	rep.Ratios = append(rep.Ratios, Ratio{Name: "pushcrypto / stdlib primitives (CPU per notification)",
		Value: ours.MicrosPerOp / prim.MicrosPerOp, Target: "≤ 1.2", Met: ours.MicrosPerOp <= 1.2*prim.MicrosPerOp})

	bare, mock, err := r.h2Baselines(ctx)
	if err != nil {
		return err
	}
	rep.Baselines = append(rep.Baselines, bare, mock)
	rep.Ratios = append(rep.Ratios, Ratio{Name: "mockapns / bare HTTP/2+TLS handler (pushes/s)",
		Value: mock.PerSec / bare.PerSec, Target: "≥ 0.85", Met: mock.PerSec >= 0.85*bare.PerSec})
	return nil
}

// cryptoBaselines: one notification's crypto (seal, open, sign, verify)
// with bare stdlib calls, and with pushcrypto.
func cryptoBaselines() (prim, ours Baseline, err error) {
	device, err := pushcrypto.GenerateDeviceKey(rand.Reader)
	if err != nil {
		return prim, ours, err
	}
	signing, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return prim, ours, err
	}
	signer := pushcrypto.NewSigner(signing, "bench")
	verifier, err := pushcrypto.NewVerifier(map[string]*ecdsa.PublicKey{"bench": &signing.PublicKey})
	if err != nil {
		return prim, ours, err
	}
	contents := pushcrypto.Contents{Message: "benchmark notification with a message of a typical length", ChannelName: "town-square", SenderName: "bench"}
	plain := []byte(`{"message":"benchmark notification with a message of a typical length","channel_name":"town-square","sender_name":"bench"}`)
	devPriv, _ := ecdh.P256().GenerateKey(rand.Reader)
	auth, salt := make([]byte, 16), make([]byte, 16)
	digest := sha256.Sum256([]byte("ack-id.device-token"))

	var failed atomic.Value
	fail := func(e error) {
		if e != nil {
			failed.Store(e)
		}
	}
	primitives := func() {
		// Seal: ephemeral key, ECDH, HKDF, AES-128-GCM.
		eph, err := ecdh.P256().GenerateKey(rand.Reader)
		fail(err)
		shared, err := eph.ECDH(devPriv.PublicKey())
		fail(err)
		key, err := hkdf.Key(sha256.New, shared, salt, "Content-Encoding: aes128gcm", 16)
		fail(err)
		nonce, err := hkdf.Key(sha256.New, shared, auth, "Content-Encoding: nonce", 12)
		fail(err)
		block, _ := aes.NewCipher(key)
		gcm, _ := cipher.NewGCM(block)
		sealed := gcm.Seal(nil, nonce, plain, nil)
		// Open: ECDH, HKDF, AES-128-GCM.
		shared2, err := devPriv.ECDH(eph.PublicKey())
		fail(err)
		key2, _ := hkdf.Key(sha256.New, shared2, salt, "Content-Encoding: aes128gcm", 16)
		block2, _ := aes.NewCipher(key2)
		gcm2, _ := cipher.NewGCM(block2)
		_, err = gcm2.Open(nil, nonce, sealed, nil)
		fail(err)
		// Sign and verify.
		sig, err := ecdsa.SignASN1(rand.Reader, signing, digest[:])
		fail(err)
		if !ecdsa.VerifyASN1(&signing.PublicKey, digest[:], sig) {
			fail(fmt.Errorf("bench: verify failed"))
		}
	}
	pushlab := func() {
		env, err := pushcrypto.SealContents(device.Recipient(), contents, rand.Reader)
		fail(err)
		_, err = pushcrypto.OpenContents(device, env)
		fail(err)
		now := time.Now()
		sig, err := signer.Sign("ack-id", "device-token", now)
		fail(err)
		fail(verifier.Verify(sig, "ack-id", "device-token", now))
	}
	measure := func(name string, f func()) Baseline {
		res := testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				f()
			}
		})
		return Baseline{Name: name, PerSec: float64(res.N) / res.T.Seconds(), MicrosPerOp: float64(res.NsPerOp()) / 1000,
			AllocsPerOp: float64(res.AllocsPerOp()), Side: "one goroutine"}
	}
	prim = measure("stdlib crypto (seal + open + sign + verify)", primitives)
	ours = measure("pushcrypto (seal + open + sign + verify)", pushlab)
	if e, _ := failed.Load().(error); e != nil {
		return prim, ours, e
	}
	return prim, ours, nil
}

// h2Baselines drives a bare HTTP/2+TLS handler and mockapns with the same
// client, request and concurrency for BaselineTime each.
func (r *runner) h2Baselines(ctx context.Context) (bare, mock Baseline, err error) {
	set := r.lab.Set
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.Copy(io.Discard, req.Body)
		w.Header().Set("apns-id", "8D7A3E5C-0000-4000-8000-000000000000")
		w.WriteHeader(http.StatusOK)
	}), TLSConfig: &tls.Config{Certificates: []tls.Certificate{set.Mock.TLS()}, NextProtos: []string{"h2"}}}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP2(true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return bare, mock, err
	}
	go srv.ServeTLS(ln, "", "")
	defer srv.Close()

	m, err := mockapns.New(mockapns.Config{Cert: set.Mock.TLS(), ClientCAs: set.CA.Pool()})
	if err != nil {
		return bare, mock, err
	}
	if err := m.Start(); err != nil {
		return bare, mock, err
	}
	defer m.Close()
	if err := m.RegisterKey(mockapns.Key{ID: set.APNsKey.KeyID, TeamID: set.TeamID, Public: &set.APNsKey.Key.PublicKey}); err != nil {
		return bare, mock, err
	}
	reg, err := m.RegisterDevice(set.BundleID, testpki.Production, "baseline")
	if err != nil {
		return bare, mock, err
	}
	m.Attach(reg.Token, mockapns.ReceiverFunc(func(mockapns.Delivery) {})) // online: every push is delivered
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": set.TeamID, "iat": time.Now().Unix()})
	tok.Header["kid"] = set.APNsKey.KeyID
	bearer, err := tok.SignedString(set.APNsKey.Key)
	if err != nil {
		return bare, mock, err
	}
	body := []byte(`{"aps":{"alert":{"title":"town-square","body":"benchmark notification"},"mutable-content":1},"ack_id":"x"}`)
	drive := func(name, url string) (Baseline, error) {
		client := tlsClient(set.CA.Pool())
		defer client.CloseIdleConnections()
		push := func() error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/3/device/"+reg.Token, bytes.NewReader(body))
			req.Header.Set("authorization", "bearer "+bearer)
			req.Header.Set("apns-topic", set.BundleID)
			req.Header.Set("apns-push-type", "alert")
			res, err := client.Do(req)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				return fmt.Errorf("bench: baseline %s answered %d", name, res.StatusCode)
			}
			return nil
		}
		if err := push(); err != nil {
			return Baseline{}, err
		}
		cpu := startCPU(false, 0)
		var n atomic.Int64
		var first atomic.Value
		deadline := time.Now().Add(r.cfg.BaselineTime)
		start := time.Now()
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				for time.Now().Before(deadline) && ctx.Err() == nil {
					if err := push(); err != nil {
						first.CompareAndSwap(nil, err)
						return
					}
					n.Add(1)
				}
			})
		}
		wg.Wait()
		secs := time.Since(start).Seconds()
		c := cpu.stop(int(n.Load()))
		if e, _ := first.Load().(error); e != nil {
			return Baseline{}, e
		}
		return Baseline{Name: name, PerSec: float64(n.Load()) / secs, MicrosPerOp: c.MicrosPerNotification, Side: "client + server, 16 streams"}, nil
	}
	if bare, err = drive("bare HTTP/2+TLS handler", "https://"+ln.Addr().String()); err != nil {
		return bare, mock, err
	}
	mock, err = drive("mockapns (token auth, accepted)", m.URL)
	return bare, mock, err
}
