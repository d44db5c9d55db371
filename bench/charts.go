package bench

import (
	"fmt"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Chart is a grouped bar chart: one group per label, one bar per series.
type Chart struct {
	File   string   `json:"file"`
	Title  string   `json:"title"`
	YLabel string   `json:"yLabel"`
	Labels []string `json:"labels"`
	Series []Series `json:"series"`
	Lines  []HLine  `json:"lines,omitempty"`
}

// Series is one bar per label.
type Series struct {
	Name   string    `json:"name"`
	Values []float64 `json:"values"`
}

// HLine is a horizontal reference line.
type HLine struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// Layout of a chart: bars stand up over their labels unless a label is
// wider than its group, then they lie down with the labels on the left, so
// that no two labels overlap.
const (
	groupWidth  = 1.1 * vg.Inch // horizontal space per label, standing bars
	maxWidth    = 14 * vg.Inch
	barsHeight  = 5 * vg.Inch
	lyingWidth  = 11 * vg.Inch
	lyingPerBar = 0.16 * vg.Inch
	legendRow   = 0.2 * vg.Inch
)

// horizontal tells whether c's labels need lying bars.
func (c *Chart) horizontal(p *plot.Plot) bool {
	room := (c.width() - 2*vg.Inch) / vg.Length(max(len(c.Labels), 1))
	for _, l := range c.Labels {
		if p.X.Tick.Label.Width(l) > 0.95*room {
			return true
		}
	}
	return false
}

// width of the image with standing bars.
func (c *Chart) width() vg.Length {
	w := min(vg.Length(max(len(c.Labels), 3))*groupWidth+2*vg.Inch, maxWidth)
	return max(w, plot.New().Title.TextStyle.Width(c.Title)+vg.Inch)
}

func (c *Chart) render(dir string) error {
	p := plot.New()
	p.Title.Text = c.Title
	p.Legend.Top = true
	lying := c.horizontal(p)
	n := len(c.Series)
	w := vg.Points(60 / float64(max(n, 1)))
	if lying {
		w = lyingPerBar
	}
	for i, s := range c.Series {
		values := plotter.Values(s.Values)
		if lying { // labels read top to bottom in their order
			values = reversed(values)
		}
		bars, err := plotter.NewBarChart(values, w)
		if err != nil {
			return err
		}
		bars.Horizontal = lying
		bars.LineStyle.Width = 0
		bars.Color = plotutil.Color(i)
		bars.Offset = w * vg.Length(float64(i)-float64(n-1)/2)
		if lying { // first series on top, as in the legend
			bars.Offset = -bars.Offset
		}
		p.Add(bars)
		p.Legend.Add(s.Name, bars)
	}
	lo, hi := -0.6, float64(len(c.Labels))-0.4
	for i, l := range c.Lines {
		var line *plotter.Line
		var err error
		if lying {
			line, err = plotter.NewLine(plotter.XYs{{X: l.Value, Y: lo}, {X: l.Value, Y: hi}})
			if err != nil {
				return err
			}
		} else {
			line, err = plotter.NewLine(plotter.XYs{{X: lo, Y: l.Value}, {X: hi, Y: l.Value}})
			if err != nil {
				return err
			}
		}
		line.Color = plotutil.Color(n + i)
		line.Dashes = plotutil.Dashes(1 + i)
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(fmt.Sprintf("%s (%.3g)", l.Name, l.Value), line)
	}
	top := 0.0
	for _, s := range c.Series {
		for _, v := range s.Values {
			top = max(top, v)
		}
	}
	for _, l := range c.Lines {
		top = max(top, l.Value)
	}
	if lying {
		p.NominalY(reversed(c.Labels)...)
		// The legend sits in an empty band below the last group.
		unit := vg.Length(max(n, 1)) * lyingPerBar * 1.35
		band := float64(vg.Length(n+len(c.Lines))*legendRow/unit) + 0.2
		p.X.Label.Text = c.YLabel
		p.Y.Min, p.Y.Max = lo-band, hi
		p.X.Min, p.X.Max = 0, top*1.1
		p.Legend.Top = false
		height := vg.Length(float64(len(c.Labels))+band)*unit + 1.5*vg.Inch
		return p.Save(lyingWidth, height, filepath.Join(dir, c.File))
	}
	p.NominalX(c.Labels...)
	p.Y.Label.Text = c.YLabel
	p.X.Min, p.X.Max = lo, hi
	p.Y.Min = 0
	p.Y.Max = top * 1.35 // room for the legend above the bars
	return p.Save(c.width(), barsHeight, filepath.Join(dir, c.File))
}

// reversed is a copy of s in reverse order.
func reversed[T any](s []T) []T {
	r := make([]T, len(s))
	for i, v := range s {
		r[len(r)-1-i] = v
	}
	return r
}
