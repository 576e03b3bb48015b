package web

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pushlab/pushlab/e2e"
	"github.com/pushlab/pushlab/events"
	"github.com/pushlab/pushlab/serversim"
)

// The browser test drives Debian's chromium (CI installs it; .ci/run). Under
// CI=true a missing browser fails the test: it never skips there.
//
// Screenshots of each step go to $PUSHLAB_ARTIFACTS/web (default: the
// system temp dir's pushlab-artifacts/web); the test logs the path. With
// PUSHLAB_WEB_SCREENSHOT=path the final view is also written there: that is
// how docs/web-view.png is made (make web-screenshot).

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("PUSHLAB_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on PATH: CI must install it (.ci/run installs Debian's chromium)")
	}
	t.Skip("no chromium on PATH (set PUSHLAB_CHROMIUM or install chromium); CI=true makes this a failure")
	return ""
}

func artifactDir(t *testing.T) string {
	t.Helper()
	base := os.Getenv("PUSHLAB_ARTIFACTS")
	if base == "" {
		base = filepath.Join(os.TempDir(), "pushlab-artifacts")
	}
	dir := filepath.Join(base, "web")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// clickRow waits for a notification row matching platform, verdict and
// text, and clicks it with the mouse, as a user would.
func clickRow(platform, verdict, text string) chromedp.Action[chromedp.Void] {
	js := fmt.Sprintf(`(() => {
		const r = [...document.querySelectorAll('.trace-row')].find((r) =>
			r.dataset.platform === %q && r.dataset.verdict === %q && r.textContent.includes(%q));
		return r ? r.dataset.trace : '';
	})()`, platform, verdict, text)
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		trace, err := chromedp.Poll[string](js, chromedp.WithPollingTimeout(30*time.Second))(ctx, tg)
		if err != nil {
			return fmt.Errorf("no %s row %s with %q: %w", platform, verdict, text, err)
		}
		// The row is re-rendered as hops arrive, and rows above it push it
		// down: select it by its trace id, and click again if a new row moved
		// it between aiming and clicking.
		for attempt := 0; ; attempt++ {
			if _, err = click(chromedp.CSS(fmt.Sprintf(`.trace-row[data-trace=%q]`, trace)))(ctx, tg); err != nil {
				return err
			}
			_, err = chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector('#trace-sub').textContent.includes(%q)`, trace),
				chromedp.WithPollingTimeout(3*time.Second))(ctx, tg)
			if err == nil || attempt == 4 {
				return err
			}
		}
	})
}

// stale retries an action that lost its node: the page re-renders lists and
// selects as events arrive, so a node found a moment ago may be gone.
func stale(a chromedp.Action[chromedp.Void]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for attempt := 0; ; attempt++ {
			_, err := a(ctx, tg)
			if err == nil || attempt == 9 || !strings.Contains(err.Error(), "Could not find node") {
				return err
			}
			select {
			case <-ctx.Done():
				return err
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}

func setValue[S chromedp.Selectable](sel S, value string) chromedp.Action[chromedp.Void] {
	return stale(chromedp.SetValue(sel, value))
}

func click[S chromedp.Selectable](sel S) chromedp.Action[chromedp.Void] {
	return stale(chromedp.Click(sel))
}

func waitJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(30*time.Second))
}

// browse starts chromium on a fresh tab; step runs actions with a deadline
// and saves a screenshot named after a step that fails; shot saves one.
func browse(t *testing.T) (step func(string, ...chromedp.Action[chromedp.Void]), shot func(string) chromedp.Action[chromedp.Void]) {
	t.Helper()
	exe := chromiumPath(t)
	dir := artifactDir(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1680, 1050),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf), chromedp.WithBrowserOption(chromedp.WithConsolef(t.Logf)))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// Start the browser on ctx itself: the tab lives as long as the test,
	// not as long as the first step's deadline.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	shot = func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.CaptureScreenshot()(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
		})
	}
	step = func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			chromedp.Do(ctx, shot(name+"-failed"))
			t.Fatalf("%s: %v", name, err)
		}
	}
	return step, shot
}

func TestBrowser(t *testing.T) {
	lab, view, srv := startDemo(t, e2e.Options{Contents: serversim.ContentsFull})
	step, shot := browse(t)
	dir := artifactDir(t)

	step("open",
		chromedp.EmulateViewport(1680, 1050),
		chromedp.Navigate(srv.URL),
		chromedp.WaitVisible(chromedp.CSS(`.phone.ios[data-name="iphone-token"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.phone.ios[data-name="iphone-cert"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.phone.android[data-name="pixel"]`)),
		waitJS(`document.querySelector('#conn').classList.contains('live')`),
		shot("01-open"))

	// Send to every phone of alice; each platform's waterfall reaches the ack at the proxy.
	const hello = "chromedp says hello"
	step("send",
		setValue(chromedp.CSS(`#send-text`), hello),
		click(chromedp.CSS(`#send-btn`)),
		clickRow("ios", "acked", hello),
		chromedp.WaitVisible(chromedp.CSS(`#waterfall .lane[data-hop="proxy.acked"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#waterfall .lane[data-hop="provider.accepted"] .marker.diamond`)),
		chromedp.WaitVisible(chromedp.CSS(`#waterfall .lane[data-hop="device.delivered"] .marker.circle`)),
		// The inspector shows the request as mock APNs received and verified it.
		click(chromedp.CSS(`#waterfall .lane[data-hop="provider.accepted"]`)),
		waitJS(`[...document.querySelectorAll('#inspector .request')].some((b) => b.textContent.includes('apns-topic') && b.textContent.includes('key_fingerprint'))`),
		shot("02-ios-acked"),
		clickRow("android", "acked", hello),
		chromedp.WaitVisible(chromedp.CSS(`#waterfall .lane[data-hop="proxy.acked"]`)),
		waitJS(`document.querySelector('#trace-title').textContent.startsWith('pixel')`),
		shot("03-android-acked"))

	// An Unregistered fault on one iPhone: the proxy answers REMOVE and the
	// server deletes the session, and the page shows both.
	step("unregistered",
		setValue(chromedp.CSS(`#fault-device`), "iphone-token"),
		setValue(chromedp.CSS(`#fault-preset`), "apns-unregistered"),
		click(chromedp.CSS(`#fault-btn`)),
		chromedp.WaitVisible(chromedp.CSS(`.fault[data-provider="apns"]`)),
		setValue(chromedp.CSS(`#send-target`), "device:iphone-token"),
		setValue(chromedp.CSS(`#send-text`), "to a dead token"),
		click(chromedp.CSS(`#send-btn`)),
		clickRow("ios", "REMOVE", "iphone-token"),
		chromedp.WaitVisible(chromedp.CSS(`#waterfall .lane[data-hop="proxy.forwarded"][data-status="Unregistered"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#waterfall .lane.bad[data-hop="provider.rejected"][data-status="Unregistered"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#waterfall .lane[data-hop="proxy.responded"][data-status="REMOVE"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#waterfall .lane[data-hop="server.session_removed"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.device[data-name="iphone-token"] .session.removed`)),
		shot("04-remove"))

	// A message with markup shows as text, on the lock screen and in the list.
	const markup = `<img src=x onerror="window.__xss=1"><b>bold</b><script>window.__xss=2</script>`
	var injected bool
	step("escaping",
		click(chromedp.CSS(`#fault-clear`)),
		setValue(chromedp.CSS(`#send-target`), "user:alice"),
		setValue(chromedp.CSS(`#send-text`), markup),
		click(chromedp.CSS(`#send-btn`)),
		waitJS(`[...document.querySelectorAll('.phone[data-name="pixel"] .notif-body')].some((b) => b.textContent.includes('<b>bold</b>'))`),
		waitJS(`[...document.querySelectorAll('.phone[data-name="iphone-cert"] .notif-body')].some((b) => b.textContent.includes('<script>'))`),
		clickRow("android", "acked", "<b>bold</b>"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) (err error) {
			injected, err = chromedp.Evaluate[bool](`window.__xss !== undefined || document.querySelectorAll('.notif-body b, .notif-body img, .trace-row b, .trace-row img, #waterfall b, #inspector b').length > 0`)(ctx, tg)
			return err
		}),
		shot("05-escaped"))
	if injected {
		t.Fatal("markup in a message became elements or ran: the page must show it as text")
	}

	// The picture in README: an acked iOS push's waterfall beside the phones.
	step("overview",
		clickRow("ios", "acked", hello),
		chromedp.Poll[chromedp.Void](`(document.querySelector('#toast').hidden = true)`),
		chromedp.WaitVisible(chromedp.CSS(`#waterfall .lane[data-hop="proxy.acked"]`)),
		chromedp.Sleep(1200), // a stats frame or two for the chart
		shot("06-overview"))
	if dst := os.Getenv("PUSHLAB_WEB_SCREENSHOT"); dst != "" {
		b, err := os.ReadFile(filepath.Join(dir, "06-overview.png"))
		if err == nil {
			err = os.WriteFile(dst, b, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// Load: 10,000 events a second for two seconds. The page keeps at most
	// 3000 notifications, stays live, and brings older ones back on demand.
	const loadTraces = 10000
	loaded := make(chan struct{})
	go func() {
		defer close(loaded)
		start := time.Now()
		for i := range loadTraces {
			id := fmt.Sprintf("load-%05d", i)
			at := time.Now()
			lab.Bus.Publish(events.Event{TraceID: id, Hop: events.ServerSent, Actor: "server", At: at,
				Attrs: map[string]string{"device": "load", "platform": "android", "type": "message"}})
			lab.Bus.Publish(events.Event{TraceID: id, Hop: events.ProxyAcked, Actor: "proxy", Status: "OK", At: at.Add(time.Millisecond)})
			if i%50 == 49 {
				time.Sleep(time.Until(start.Add(time.Duration(i+1) * time.Second / (loadTraces / 2))))
			}
		}
	}()
	var newest string
	step("load",
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			select {
			case <-loaded:
			case <-ctx.Done():
				return ctx.Err()
			}
			// Until the view has read the whole load off the bus…
			last := view.hub.lastSeq()
			for {
				time.Sleep(200 * time.Millisecond)
				if now := view.hub.lastSeq(); now != last {
					last = now
					continue
				}
				break
			}
			// …and the page has all of it.
			_, err := chromedp.Poll[chromedp.Void](fmt.Sprintf(`window.pushlab.lastSeq >= %d`, last), chromedp.WithPollingTimeout(30*time.Second))(ctx, tg)
			return err
		}),
		waitJS(`/ of 3000$/.test(document.querySelector('#list-count').textContent)`),
		waitJS(`document.querySelector('#conn').classList.contains('live')`),
		// The page answers a filter at once: the newest row, found by its id.
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) (err error) {
			newest, err = chromedp.Evaluate[string](`document.querySelector('.trace-row').dataset.trace`)(ctx, tg)
			if err == nil && !strings.HasPrefix(newest, "load-") {
				err = fmt.Errorf("newest row %q is not one of the load's", newest)
			}
			if err == nil {
				_, err = chromedp.SendKeys(chromedp.CSS(`#filter-text`), newest)(ctx, tg)
			}
			return err
		}),
		waitJS(`document.querySelectorAll('.trace-row').length === 1`),
		waitJS(`(() => { const f = document.querySelector('#filter-text'); f.value = ''; f.dispatchEvent(new Event('input')); return true; })()`),
		// The list re-renders (and "show more" moves "load older"): click after it.
		waitJS(`document.querySelectorAll('.trace-row').length > 1 && !document.querySelector('#more').hidden`),
		click(chromedp.CSS(`#older`)),
		waitJS(`/ of 3200$/.test(document.querySelector('#list-count').textContent)`),
		shot("07-load"))

	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("view served on %s, want loopback", srv.URL)
	}
}

// A tpns push travels in clear: every hop of it says so, loudly.
func TestBrowserPlaintextWarning(t *testing.T) {
	_, _, srv := startDemo(t, e2e.Options{Contents: serversim.ContentsFull, Profile: serversim.ProfileTPNS})
	step, shot := browse(t)
	step("tpns",
		chromedp.EmulateViewport(1680, 1050),
		chromedp.Navigate(srv.URL),
		chromedp.WaitVisible(chromedp.CSS(`.trace-row[data-platform="android"] .tag.plain`)),
		clickRow("android", "acked", "pixel"),
		chromedp.WaitVisible(chromedp.CSS(`#inspector .plain-warning`)),
		chromedp.WaitVisible(chromedp.CSS(`#waterfall .lane[data-hop="device.displayed"] .tag.plain`)),
		chromedp.WaitVisible(chromedp.CSS(`.phone[data-name="pixel"] .notif .tag.plain`)),
		shot("08-tpns-plaintext"))
}

// pushlab web --collect: the view over the lab's event stream only, as over
// actors in other processes. Device cards come from what the phones reported.
func TestBrowserCollect(t *testing.T) {
	lab, _, _ := startDemo(t)
	src := "wss" + strings.TrimPrefix(lab.Server.URL, "https") + "/events"
	s, err := New(Config{Collect: []string{src}, CollectTLS: &tls.Config{RootCAs: lab.Set.CA.Pool()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	step, shot := browse(t)
	step("collect",
		chromedp.EmulateViewport(1680, 1050),
		chromedp.Navigate(srv.URL),
		chromedp.WaitVisible(chromedp.CSS(`.phone.ios[data-name="iphone-token"] .notif`)),
		chromedp.WaitVisible(chromedp.CSS(`.phone.android[data-name="pixel"] .notif`)),
		waitJS(`document.querySelector('#controls').textContent.includes('Watching')`),
		clickRow("android", "acked", "Hello from pushlab"),
		chromedp.WaitVisible(chromedp.CSS(`#waterfall .lane[data-hop="proxy.acked"]`)),
		shot("09-collect"))
}
