package verify

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Status is the verdict of one check.
type Status string

const (
	Pass Status = "pass" // the values agree
	Warn Status = "warn" // works now, but will break or cannot be confirmed (expiry within 30 days, .p12 for upstream)
	Fail Status = "fail" // pushes to this app will not arrive
	Skip Status = "skip" // nothing to compare (an input is missing)
	// Error: an input could not be read at all (missing file, not a zip, not a
	// plist, not JSON). Report.ExitCode is then 2.
	Error Status = "error"
)

// Check is one comparison: what was compared with what, and how to fix it.
type Check struct {
	// ID names the rule, stable across runs: "ios.topic", "apns.p8", "live.ios"…
	ID string `json:"id"`
	// Subject is what the rule looked at: an app type of the proxy, an app
	// build, or both ("apple ↔ Mattermost.ipa").
	Subject string `json:"subject"`
	Status  Status `json:"status"`
	// Summary states the exact values compared, in one line.
	Summary string `json:"summary"`
	// Fix is one line saying what to change; empty when nothing needs to.
	Fix string `json:"fix,omitempty"`
	// Input is the file or setting the fix is about.
	Input string `json:"input,omitempty"`
	// Trace is the path of the live notification, hop by hop (live.* checks).
	Trace []string `json:"trace,omitempty"`
}

// Report is the outcome of Run.
type Report struct {
	Checks []Check `json:"checks"`
	// Fingerprints identify each key read (SHA256 of the public key, never
	// the key), by file.
	Fingerprints map[string]string `json:"fingerprints,omitempty"`
	Started      time.Time         `json:"started"`
	Duration     time.Duration     `json:"duration_ns"`
}

// Exit codes of ExitCode (and of pushlab verify).
const (
	ExitOK         = 0 // nothing failed (warnings allowed)
	ExitFailed     = 1 // at least one check failed
	ExitUnreadable = 2 // at least one input could not be read
)

// ExitCode is ExitUnreadable if an input could not be read, else
// ExitFailed if a check failed, else ExitOK.
func (r *Report) ExitCode() int {
	code := ExitOK
	for _, c := range r.Checks {
		switch c.Status {
		case Error:
			return ExitUnreadable
		case Fail:
			code = ExitFailed
		}
	}
	return code
}

// Count returns how many checks have status s.
func (r *Report) Count(s Status) int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == s {
			n++
		}
	}
	return n
}

// Find returns the checks with id (and, if subject is not empty, that subject).
func (r *Report) Find(id, subject string) []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.ID == id && (subject == "" || c.Subject == subject) {
			out = append(out, c)
		}
	}
	return out
}

func (r *Report) add(c Check) { r.Checks = append(r.Checks, c) }

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// TableOptions shape WriteTable.
type TableOptions struct {
	// Color adds ANSI colours to the statuses (for a terminal).
	Color bool
}

var statusColor = map[Status]string{Pass: "\x1b[32m", Warn: "\x1b[33m", Fail: "\x1b[31;1m", Skip: "\x1b[90m", Error: "\x1b[35;1m"}

// WriteTable writes the report for a human: one row per check, the fix on
// the line below, then a summary line.
func (r *Report) WriteTable(w io.Writer, opts TableOptions) error {
	idW, subjW := len("CHECK"), len("SUBJECT")
	for _, c := range r.Checks {
		idW = max(idW, utf8.RuneCountInString(c.ID))
		subjW = max(subjW, utf8.RuneCountInString(c.Subject))
	}
	subjW = min(subjW, 48)
	var b strings.Builder
	pad := func(s string, n int) string {
		if k := utf8.RuneCountInString(s); k < n {
			return s + strings.Repeat(" ", n-k)
		}
		return s
	}
	fmt.Fprintf(&b, "%s  %s  %s  %s\n", pad("STATUS", 6), pad("CHECK", idW), pad("SUBJECT", subjW), "RESULT")
	indent := strings.Repeat(" ", 6+2+idW+2+subjW+2)
	for _, c := range r.Checks {
		st := pad(strings.ToUpper(string(c.Status)), 6)
		if opts.Color {
			st = statusColor[c.Status] + st + "\x1b[0m"
		}
		fmt.Fprintf(&b, "%s  %s  %s  %s\n", st, pad(c.ID, idW), pad(c.Subject, subjW), c.Summary)
		for _, hop := range c.Trace {
			fmt.Fprintf(&b, "%s  │ %s\n", indent, hop)
		}
		if c.Fix != "" {
			fix := "fix: " + c.Fix
			if opts.Color {
				fix = "\x1b[1m" + fix + "\x1b[0m"
			}
			fmt.Fprintf(&b, "%s→ %s\n", indent, fix)
		}
	}
	fmt.Fprintf(&b, "\n%d checks: %d pass, %d warn, %d fail, %d skipped, %d unreadable input\n",
		len(r.Checks), r.Count(Pass), r.Count(Warn), r.Count(Fail), r.Count(Skip), r.Count(Error))
	_, err := io.WriteString(w, b.String())
	return err
}

// JUnit XML, as CI systems read it: one testcase per check.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",chardata"`
}

// WriteJUnit writes the report as JUnit XML: a failed check is a failure, an
// unreadable input an error, a skipped check skipped; warnings pass with
// their text in system-out.
func (r *Report) WriteJUnit(w io.Writer) error {
	secs := fmt.Sprintf("%.3f", r.Duration.Seconds())
	suite := junitSuite{Name: "pushlab verify", Time: secs, Timestamp: r.Started.UTC().Format(time.RFC3339)}
	for _, c := range r.Checks {
		jc := junitCase{Classname: "verify." + strings.SplitN(c.ID, ".", 2)[0], Name: c.ID + " " + c.Subject}
		body := c.Summary
		if len(c.Trace) > 0 {
			body += "\n" + strings.Join(c.Trace, "\n")
		}
		if c.Fix != "" {
			body += "\nfix: " + c.Fix
		}
		switch c.Status {
		case Fail:
			jc.Failure = &junitMessage{Message: c.Summary, Type: string(c.Status), Body: body}
			suite.Failures++
		case Error:
			jc.Error = &junitMessage{Message: c.Summary, Type: "unreadable input", Body: body}
			suite.Errors++
		case Skip:
			jc.Skipped = &junitMessage{Message: c.Summary}
			suite.Skipped++
		default:
			jc.SystemOut = strings.ToUpper(string(c.Status)) + ": " + body
		}
		suite.Cases = append(suite.Cases, jc)
	}
	suite.Tests = len(suite.Cases)
	out := junitSuites{Name: "pushlab verify", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors,
		Skipped: suite.Skipped, Time: secs, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
