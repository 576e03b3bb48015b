package e2e

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pushlab/pushlab/events"
)

// JUnit XML, as CI systems read it: one testsuite per topology, one testcase
// per scenario, the failure text carrying the failing notifications'
// timelines.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Tests   int          `xml:"tests,attr"`
	Fails   int          `xml:"failures,attr"`
	Time    string       `xml:"time,attr"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name    string      `xml:"name,attr"`
	Tests   int         `xml:"tests,attr"`
	Fails   int         `xml:"failures,attr"`
	Skipped int         `xml:"skipped,attr"`
	Time    string      `xml:"time,attr"`
	Cases   []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes results as JUnit XML.
func WriteJUnit(w io.Writer, results []Result) error {
	byTopo := map[Topology][]Result{}
	var order []Topology
	for _, r := range results {
		if _, ok := byTopo[r.Topology]; !ok {
			order = append(order, r.Topology)
		}
		byTopo[r.Topology] = append(byTopo[r.Topology], r)
	}
	var all junitSuites
	var total time.Duration
	for _, t := range order {
		s := junitSuite{Name: "pushlab e2e (" + string(t) + ")"}
		var d time.Duration
		for _, r := range byTopo[t] {
			c := junitCase{Name: r.Scenario + " [" + string(t) + "]", Classname: "pushlab.e2e." + string(t), Time: seconds(r.Duration),
				SystemOut: fmt.Sprintf("%s\n%s", r.Doc, r.Accounting.line())}
			switch {
			case r.Skipped != "":
				c.Skipped = &junitSkipped{Message: r.Skipped}
				s.Skipped++
			case !r.Passed:
				msg := r.Failures[0]
				if len(r.Failures) > 1 {
					msg += fmt.Sprintf(" (and %d more)", len(r.Failures)-1)
				}
				c.Failure = &junitFailure{Message: msg, Type: "ScenarioFailed", Text: r.Failure()}
				s.Fails++
			}
			s.Tests++
			d += r.Duration
			s.Cases = append(s.Cases, c)
		}
		s.Time = seconds(d)
		total += d
		all.Tests += s.Tests
		all.Fails += s.Fails
		all.Suites = append(all.Suites, s)
	}
	all.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func (a Accounting) line() string {
	return fmt.Sprintf("sent %d: OK %d, FAIL %d, REMOVE %d; delivered %d, held %d; %d violation(s)",
		a.Sent, a.OK, a.Fail, a.Remove, a.Delivered, a.Stored, len(a.Violations))
}

// WriteJSON writes results as a JSON array.
func WriteJSON(w io.Writer, results []Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(results)
}

// WriteSummary writes a table a person reads at the end of a CI log.
func WriteSummary(w io.Writer, results []Result) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tTOPOLOGY\tRESULT\tSENT\tOK\tFAIL\tREMOVE\tDELIVERED\tTIME")
	passed, failed, skipped := 0, 0, 0
	for _, r := range results {
		res := "PASS"
		switch {
		case r.Skipped != "":
			res, skipped = "skip", skipped+1
		case !r.Passed:
			res, failed = "FAIL", failed+1
		default:
			passed++
		}
		a := r.Accounting
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%v\n", r.Scenario, r.Topology, res, a.Sent, a.OK, a.Fail, a.Remove, a.Delivered, r.Duration.Round(time.Millisecond))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", passed, failed, skipped)
}

// ProgressLine is one line per finished scenario.
func ProgressLine(r Result) string {
	switch {
	case r.Skipped != "":
		return fmt.Sprintf("skip  %-40s %-10s %s", r.Scenario, r.Topology, r.Skipped)
	case !r.Passed:
		return fmt.Sprintf("FAIL  %-40s %-10s %v  %s", r.Scenario, r.Topology, r.Duration.Round(time.Millisecond), r.Failures[0])
	}
	return fmt.Sprintf("ok    %-40s %-10s %v  %s", r.Scenario, r.Topology, r.Duration.Round(time.Millisecond), r.Accounting.line())
}

// WriteArtifacts saves, for each failed result, its failure text and every
// event of the scenario (JSON lines), each container's log, and the whole
// run's timeline (every event of every actor, JSON lines) by topology.
func WriteArtifacts(dir string, results []Result, logs map[string]string, timelines map[Topology][]events.Event) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var errs []string
	for _, r := range results {
		if r.Passed {
			continue
		}
		base := filepath.Join(dir, string(r.Topology)+"-"+unsafeName.ReplaceAllString(r.Scenario, "-"))
		if err := os.WriteFile(base+".txt", []byte(r.Scenario+" ["+string(r.Topology)+"]\n"+r.Doc+"\n\n"+r.Failure()), 0o644); err != nil {
			errs = append(errs, err.Error())
		}
		evs := append(r.Events[:0:0], r.Events...)
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].At.Before(evs[j].At) })
		var b strings.Builder
		for _, e := range evs {
			b.Write(e.JSON())
			b.WriteByte('\n')
		}
		if err := os.WriteFile(base+".events.jsonl", []byte(b.String()), 0o644); err != nil {
			errs = append(errs, err.Error())
		}
	}
	for t, evs := range timelines {
		var b strings.Builder
		for _, e := range evs {
			b.Write(e.JSON())
			b.WriteByte('\n')
		}
		if err := os.WriteFile(filepath.Join(dir, string(t)+"-timeline.jsonl"), []byte(b.String()), 0o644); err != nil {
			errs = append(errs, err.Error())
		}
	}
	for name, log := range logs {
		if err := os.WriteFile(filepath.Join(dir, name+".log"), []byte(log), 0o644); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("artifacts: %s", strings.Join(errs, "; "))
	}
	return nil
}
