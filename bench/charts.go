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

func (c *Chart) render(dir string) error {
	p := plot.New()
	p.Title.Text = c.Title
	p.Y.Label.Text = c.YLabel
	p.Legend.Top = true
	n := len(c.Series)
	w := vg.Points(60 / float64(max(n, 1)))
	for i, s := range c.Series {
		bars, err := plotter.NewBarChart(plotter.Values(s.Values), w)
		if err != nil {
			return err
		}
		bars.LineStyle.Width = 0
		bars.Color = plotutil.Color(i)
		bars.Offset = w * vg.Length(float64(i)-float64(n-1)/2)
		p.Add(bars)
		p.Legend.Add(s.Name, bars)
	}
	for i, l := range c.Lines {
		line := plotter.NewFunction(func(float64) float64 { return l.Value })
		line.Color = plotutil.Color(n + i)
		line.Dashes = plotutil.Dashes(1 + i)
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(fmt.Sprintf("%s (%.3g)", l.Name, l.Value), line)
	}
	p.NominalX(c.Labels...)
	p.X.Min, p.X.Max = -0.6, float64(len(c.Labels))-0.4
	p.Y.Min = 0
	top := 0.0
	for _, s := range c.Series {
		for _, v := range s.Values {
			top = max(top, v)
		}
	}
	for _, l := range c.Lines {
		top = max(top, l.Value)
	}
	p.Y.Max = top * 1.35 // room for the legend above the bars
	width := min(vg.Length(max(len(c.Labels), 3))*1.1*vg.Inch+2*vg.Inch, 14*vg.Inch)
	return p.Save(width, 5*vg.Inch, filepath.Join(dir, c.File))
}
