package bench

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
)

// WriteHTML writes a self-contained page: the report's tables and inline SVG
// plots (throughput over time, the end-to-end latency histogram, latency by
// stage, CPU by actor). It fetches nothing.
func (r *Report) WriteHTML(w io.Writer) error {
	var text strings.Builder
	r.WriteText(&text)
	data := struct {
		R                                  *Report
		Text                               string
		Throughput, Histogram, Stages, CPU template.HTML
	}{R: r, Text: text.String(), Throughput: r.throughputSVG(), Histogram: r.histogramSVG(), Stages: r.stagesSVG(), CPU: r.cpuSVG()}
	return page.Execute(w, data)
}

var page = template.Must(template.New("bench").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pushlab bench {{.R.Started.Format "2006-01-02 15:04:05"}}</title>
<style>
body{font:14px system-ui,sans-serif;margin:2em;max-width:1000px;color:#222}
h1{font-size:20px} h2{font-size:16px;margin-top:2em}
pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:12px}
svg{background:#fff;border:1px solid #ddd} .axis{stroke:#999} text{font-size:11px;fill:#444}
</style></head><body>
<h1>pushlab bench — {{.R.Setup.Target}}, {{.R.Setup.Mode}}</h1>
<p>{{printf "%.0f" .R.Throughput.Delivered}} notifications/s delivered over {{printf "%.1f" .R.Seconds}} s;
sent {{.R.Accounting.Sent}} = delivered {{.R.Accounting.Delivered}} + failed {{.R.Accounting.Failed}} + lost {{.R.Accounting.Lost}};
duplicated {{.R.Accounting.Duplicated}}. {{printf "%.0f" .R.CPU.MicrosPerNotification}} µs CPU per notification, {{printf "%.2f" .R.CPU.CoresBusy}} cores busy.</p>
<h2>Throughput over time</h2>{{.Throughput}}
<h2>End-to-end latency (sent → displayed)</h2>{{.Histogram}}
<h2>Latency by stage (p50 light, p99 dark)</h2>{{.Stages}}
<h2>CPU per notification by actor</h2>{{.CPU}}
<h2>Report</h2><pre>{{.Text}}</pre>
</body></html>
`))

const plotW, plotH, margin = 900, 260, 50

func svgOpen(h int) *strings.Builder {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`, plotW, h, plotW, h)
	return &b
}

func (r *Report) throughputSVG() template.HTML {
	b := svgOpen(plotH)
	// Whole seconds of load only: the last, partial second would read as a collapse.
	timeline := r.Timeline
	if full := int(r.Seconds); full > 0 && len(timeline) > full {
		timeline = timeline[:full]
	}
	n := len(timeline)
	peak := 1
	for _, s := range timeline {
		peak = max(peak, s.Sent, s.Delivered)
	}
	x := func(i int) float64 { return margin + float64(i)*float64(plotW-2*margin)/math.Max(1, float64(n-1)) }
	y := func(v int) float64 { return plotH - 30 - float64(v)*float64(plotH-50)/float64(peak) }
	line := func(color string, v func(Second) int) {
		var pts []string
		for i, s := range timeline {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v(s))))
		}
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, color, strings.Join(pts, " "))
	}
	axes(b, plotH, fmt.Sprintf("%d/s", peak), fmt.Sprintf("%d s", n))
	line("#9ab", func(s Second) int { return s.Sent })
	line("#1a6", func(s Second) int { return s.Delivered })
	line("#c33", func(s Second) int { return s.Failed })
	fmt.Fprintf(b, `<text x="%d" y="15">sent (grey), delivered (green), failed (red) per second</text></svg>`, margin)
	return template.HTML(b.String())
}

func axes(b *strings.Builder, h int, top, right string) {
	fmt.Fprintf(b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/><line class="axis" x1="%d" y1="20" x2="%d" y2="%d"/>`,
		margin, h-30, plotW-margin, h-30, margin, margin, h-30)
	fmt.Fprintf(b, `<text x="4" y="24">%s</text><text x="%d" y="%d">%s</text><text x="4" y="%d">0</text>`,
		template.HTMLEscapeString(top), plotW-margin-30, h-12, template.HTMLEscapeString(right), h-30)
}

func (r *Report) histogramSVG() template.HTML {
	b := svgOpen(plotH)
	var st *Stage
	for i := range r.Stages {
		if r.Stages[i].Name == StageEndToEnd {
			st = &r.Stages[i]
		}
	}
	if st == nil || len(st.Histogram) == 0 {
		b.WriteString(`<text x="50" y="50">no end-to-end latencies</text></svg>`)
		return template.HTML(b.String())
	}
	// Equal-width bins from 0 to the max, so the x axis reads linearly.
	const nbins = 60
	width := st.Max / nbins
	if width <= 0 {
		width = 1
	}
	var bins [nbins]int64
	for _, k := range st.Histogram {
		i := min(int(k.UpToMs/width), nbins-1)
		bins[i] += k.Count
	}
	var peak int64 = 1
	for _, c := range bins {
		peak = max(peak, c)
	}
	bw := float64(plotW-2*margin) / nbins
	axes(b, plotH, fmt.Sprintf("%d", peak), fmt.Sprintf("%.1f ms", st.Max))
	for i, c := range bins {
		hh := float64(c) * float64(plotH-50) / float64(peak)
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#48a"><title>%.2f–%.2f ms: %d</title></rect>`,
			margin+float64(i)*bw, plotH-30-hh, math.Max(1, bw-1), hh, float64(i)*width, float64(i+1)*width, c)
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%d">%.1f ms</text>`, margin+float64(nbins/2)*bw-15, plotH-12, st.Max/2)
	fmt.Fprintf(b, `<text x="%d" y="15">p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms</text></svg>`, margin, st.P50, st.P99, st.P999, st.Max)
	return template.HTML(b.String())
}

// bars draws one horizontal bar (or two, light and dark) per row.
func bars(rows []string, light, dark []float64, unit string) template.HTML {
	h := 30 + 26*len(rows)
	b := svgOpen(h)
	peak := 1e-9
	for i := range rows {
		peak = math.Max(peak, math.Max(light[i], dark[i]))
	}
	const left = 200
	scale := float64(plotW-left-150) / peak
	for i, name := range rows {
		y := 15 + 26*i
		fmt.Fprintf(b, `<text x="4" y="%d">%s</text>`, y+14, template.HTMLEscapeString(name))
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="%.1f" height="18" fill="#246"/>`, left, y, dark[i]*scale)
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="%.1f" height="18" fill="#8bd"/>`, left, y, light[i]*scale)
		fmt.Fprintf(b, `<text x="%.1f" y="%d">%.2f %s</text>`, left+math.Max(light[i], dark[i])*scale+4, y+14, math.Max(light[i], dark[i]), unit)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func (r *Report) stagesSVG() template.HTML {
	var names []string
	var p50, p99 []float64
	for _, s := range r.Stages {
		names, p50, p99 = append(names, s.Name), append(p50, s.P50), append(p99, s.P99)
	}
	return bars(names, p50, p99, "ms (p99)")
}

func (r *Report) cpuSVG() template.HTML {
	var names []string
	var us []float64
	for _, a := range r.CPU.ByActor {
		names, us = append(names, a.Actor), append(us, a.MicrosPerNotification)
	}
	return bars(names, us, us, "µs")
}
