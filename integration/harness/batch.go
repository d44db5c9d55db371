package harness

import "strings"

// BatchResult is one object of Weaviate's POST /v1/batch/objects answer.
type BatchResult struct {
	ID     string `json:"id"`
	Result struct {
		Errors *struct {
			Error []struct {
				Message string `json:"message"`
			} `json:"error"`
		} `json:"errors"`
	} `json:"result"`
}

// Err returns the object's error messages joined by "; ", or "" when it
// was stored.
func (r BatchResult) Err() string {
	if r.Result.Errors == nil {
		return ""
	}
	var msgs []string
	for _, e := range r.Result.Errors.Error {
		msgs = append(msgs, e.Message)
	}
	return strings.Join(msgs, "; ")
}
