// yaml2json reads a multi-document YAML stream on stdin (the output of `helm template` or
// chart-render) and prints a JSON array with one {"source": ..., "object": ...} entry per
// non-empty document. It converts with sigs.k8s.io/yaml, the library Helm and kubectl use, so
// the test sees the objects exactly as Kubernetes would. Used by tests/chart/chart.test.js.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"sigs.k8s.io/yaml"
)

type document struct {
	Source string          `json:"source"`
	Object json.RawMessage `json:"object"`
}

func main() {
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "yaml2json:", err)
		os.Exit(1)
	}
	var docs []string
	var current []string
	for _, line := range strings.Split(string(in), "\n") {
		if strings.TrimRight(line, " \t\r") == "---" {
			docs = append(docs, strings.Join(current, "\n"))
			current = nil
			continue
		}
		current = append(current, line)
	}
	docs = append(docs, strings.Join(current, "\n"))

	out := []document{}
	for _, doc := range docs {
		source := ""
		for _, line := range strings.Split(doc, "\n") {
			if strings.HasPrefix(line, "# Source: ") {
				source = strings.TrimPrefix(line, "# Source: ")
				break
			}
		}
		converted, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			fmt.Fprintf(os.Stderr, "yaml2json: %s: %v\n", source, err)
			os.Exit(1)
		}
		if string(converted) == "null" {
			continue
		}
		out = append(out, document{Source: source, Object: converted})
	}
	encoded, err := json.Marshal(out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "yaml2json:", err)
		os.Exit(1)
	}
	os.Stdout.Write(encoded)
	os.Stdout.Write([]byte("\n"))
}
