package bench

import (
	"os"
	"path/filepath"
)

// weaviateSection measures import objects/s through Weaviate where the
// binaries are built.
func (r *runner) weaviateSection() error {
	const section = "Weaviate import"
	bin := filepath.Join(r.cfg.RepoRoot, "bin", "weaviate-mclip")
	if _, err := os.Stat(bin); err != nil {
		r.res.add(section, Row{Metric: "weaviate-mclip import objects/s", Note: "not measured: bin/weaviate-mclip absent (`make weaviate`)"})
	} else {
		row, err := r.weaviateImport(bin)
		if err != nil {
			return err
		}
		r.res.add(section, row)
	}
	stock := filepath.Join(r.cfg.RepoRoot, "bin", "weaviate-stock")
	if _, err := os.Stat(stock); err != nil {
		r.res.add(section, Row{Metric: "stock Weaviate + `mclip serve` import objects/s", Note: "not measured: bin/weaviate-stock absent"})
	} else {
		r.res.add(section, Row{Metric: "stock Weaviate + `mclip serve` import objects/s", Note: "not measured: not implemented in this suite yet"})
	}
	return nil
}

func (r *runner) weaviateImport(bin string) (Row, error) {
	return Row{Metric: "weaviate-mclip import objects/s", Note: "not measured: not implemented yet"}, nil
}
