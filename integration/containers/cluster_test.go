package containers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/integration/harness"
	"github.com/mclip-go/mclip/testfixture/testimage"
	"github.com/mclip-go/mclip/vectorizer"
)

// clusterStack is quickstart 3: three weaviate-mclip nodes.
var clusterStack = stack{name: "weaviate-mclip-cluster", file: "deploy/compose/weaviate-mclip-cluster.yml",
	vectorizer: "multi2vec-mclip"}

const clusterClass = "ClusterDoc"

// Generous: three Weaviate nodes share the test machine's cores.
const (
	clusterTimeout = 5 * time.Minute
	// victim is the node stopped and restarted (not node1, the gossip seed).
	victim = "node2"
)

var clusterNodes = []string{"node1", "node2", "node3"}

// cluster is the three-node quickstart and each node's REST port.
type cluster struct {
	c     *compose
	ports map[string]int
	vec   *vectorizer.Encoder
	objs  []object
}

func (cl *cluster) url(node, path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", cl.ports[node], path)
}

// testCluster brings the cluster up, imports into a collection replicated
// to all three nodes, stops one node, checks that queries and imports are
// still answered, restarts it, and checks every object on every node, read
// node-locally, with the vector computed here.
func testCluster(t *testing.T, root, sock, modelDir string, vec *vectorizer.Encoder) {
	c := newCompose(t, root, sock, clusterStack, modelDir)
	cl := &cluster{c: c, vec: vec, ports: map[string]int{"node1": c.httpPort,
		"node2": harness.FreePort(t), "node3": harness.FreePort(t)}}
	c.env = append(c.env, "WEAVIATE_PORT_2="+strconv.Itoa(cl.ports["node2"]),
		"WEAVIATE_PORT_3="+strconv.Itoa(cl.ports["node3"]))

	took := c.up(t)
	t.Logf("cluster: up to healthy in %s", took.Round(100*time.Millisecond))
	cl.checkWget(t)
	cl.waitMembers(t, "node1", 3)

	cl.createClass(t)
	cl.importBatch(t, "node1", 0, 9)
	cl.checkEveryNode(t, clusterNodes)

	_, err := c.cmd("stop", "-t", "30", victim)
	require.NoError(t, err)
	t.Logf("cluster: %s stopped", victim)
	for _, node := range []string{"node1", "node3"} {
		cl.search(t, node)
	}
	cl.importBatch(t, "node3", 9, 6)
	status, _ := call(t, "GET", cl.url("node1", "/v1/objects/"+clusterClass+"/"+cl.objs[len(cl.objs)-1].id+"?node_name="+victim), nil)
	assert.NotEqual(t, http.StatusOK, status, "a read pinned to the stopped node succeeded")
	cl.checkVectors(t, "node1", "")

	start := time.Now()
	_, err = c.cmd("start", victim)
	require.NoError(t, err)
	c.waitHealthy(t)
	cl.waitMembers(t, victim, 3)
	t.Logf("cluster: %s restarted, healthy in %s", victim, time.Since(start).Round(100*time.Millisecond))
	cl.checkEveryNode(t, clusterNodes)
	cl.search(t, victim)

	c.down(t, true)
	(&suite{c: c}).assertNothingLeft(t)
}

// checkWget runs the health checks users write for Weaviate's image (with
// its BusyBox wget) in each node, and one that must fail.
func (cl *cluster) checkWget(t *testing.T) {
	t.Helper()
	ok := [][]string{
		{"wget", "--spider", "http://localhost:8080/v1/.well-known/ready"},
		{"wget", "-q", "--spider", "http://localhost:8080/v1/.well-known/ready"},
		{"wget", "--no-verbose", "--tries=3", "--spider", "http://localhost:8080/v1/.well-known/ready"},
		{"wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/v1/.well-known/live"},
		{"wget", "-qO-", "http://localhost:8080/v1/.well-known/ready"},
	}
	for _, id := range cl.c.containers(t) {
		for _, args := range ok {
			out, err := exec.Command("podman", append([]string{"exec", id}, args...)...).CombinedOutput()
			assert.NoError(t, err, "%s in %s: %s", strings.Join(args, " "), id, out)
		}
		err := exec.Command("podman", "exec", id, "wget", "-q", "--spider", "http://localhost:8080/v1/.well-known/no-such-path").Run()
		assert.Error(t, err, "wget on a missing path succeeded in %s", id)
	}
}

// waitMembers waits until node sees want nodes, all healthy.
func (cl *cluster) waitMembers(t *testing.T, node string, want int) {
	t.Helper()
	deadline := time.Now().Add(clusterTimeout)
	var last string
	for {
		status, out := call(t, "GET", cl.url(node, "/v1/nodes"), nil)
		last = string(out)
		if status == http.StatusOK {
			var res struct {
				Nodes []struct{ Name, Status string } `json:"nodes"`
			}
			require.NoError(t, json.Unmarshal(out, &res))
			healthy := 0
			for _, n := range res.Nodes {
				if n.Status == "HEALTHY" {
					healthy++
				}
			}
			if healthy == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not see %d healthy nodes after %s: %s", node, want, clusterTimeout, last)
		}
		time.Sleep(2 * time.Second)
	}
}

// createClass: every object on every node; asynchronous replication brings
// a restarted node up to date.
func (cl *cluster) createClass(t *testing.T) {
	t.Helper()
	body := map[string]any{
		"class":      clusterClass,
		"vectorizer": "multi2vec-mclip",
		"moduleConfig": map[string]any{"multi2vec-mclip": map[string]any{
			"textFields": []string{"text"}, "imageFields": []string{"image"},
		}},
		"replicationConfig": map[string]any{"factor": 3, "asyncEnabled": true},
		"properties": []map[string]any{
			{"name": "text", "dataType": []string{"text"}},
			{"name": "image", "dataType": []string{"blob"}},
		},
	}
	status, out := call(t, "POST", cl.url("node1", "/v1/schema"), body)
	require.Equal(t, http.StatusOK, status, "%s", out)
}

// importBatch imports n objects numbered from first through node: text and
// image, text only, image only in turn.
func (cl *cluster) importBatch(t *testing.T, node string, first, n int) {
	t.Helper()
	var batch []map[string]any
	for i := first; i < first+n; i++ {
		o := object{id: fmt.Sprintf("00000000-0000-4000-8000-%012d", 1000+i)}
		switch i % 3 {
		case 0:
			o.text, o.image = texts[i%len(texts)], testimage.GradientPNGBase64(i, 44+i, 36)
		case 1:
			o.text = texts[i%len(texts)]
		default:
			o.image = testimage.GradientPNGBase64(i, 36, 44+i)
		}
		var parts [][]float32
		props := map[string]any{}
		if o.text != "" {
			v, errs := cl.vec.EncodeTexts(context.Background(), []string{o.text})
			require.NoError(t, errs[0])
			parts = append(parts, v[0])
			props["text"] = o.text
		}
		if o.image != "" {
			v, errs := cl.vec.EncodeImagesBase64(context.Background(), []string{o.image})
			require.NoError(t, errs[0])
			parts = append(parts, v[0])
			props["image"] = o.image
		}
		o.vector = harness.Mean(parts...)
		cl.objs = append(cl.objs, o)
		batch = append(batch, map[string]any{"class": clusterClass, "id": o.id, "properties": props})
	}
	status, out := call(t, "POST", cl.url(node, "/v1/batch/objects"), map[string]any{"objects": batch})
	require.Equal(t, http.StatusOK, status, "%s", out)
	var res []harness.BatchResult
	require.NoError(t, json.Unmarshal(out, &res))
	require.Len(t, res, n)
	for _, r := range res {
		assert.Empty(t, r.Err(), "object %s imported through %s", r.ID, node)
	}
}

// checkVectors reads every object through node (query is added to each
// read) and compares its vector with the one computed here.
func (cl *cluster) checkVectors(t *testing.T, node, query string) {
	t.Helper()
	for _, o := range cl.objs {
		status, out := call(t, "GET", cl.url(node, "/v1/objects/"+clusterClass+"/"+o.id+"?include=vector"+query), nil)
		require.Equal(t, http.StatusOK, status, "object %s through %s%s: %s", o.id, node, query, out)
		var got struct {
			Vector []float32 `json:"vector"`
		}
		require.NoError(t, json.Unmarshal(out, &got))
		assertClose(t, o.vector, got.Vector, o.id+" on "+node)
	}
}

// checkEveryNode waits until each node holds every object (read
// node-locally, node_name), then checks their vectors there.
func (cl *cluster) checkEveryNode(t *testing.T, nodes []string) {
	t.Helper()
	start := time.Now()
	for _, node := range nodes {
		for {
			missing := 0
			for _, o := range cl.objs {
				status, _ := call(t, "GET", cl.url(node, "/v1/objects/"+clusterClass+"/"+o.id+"?node_name="+node), nil)
				if status != http.StatusOK {
					missing++
				}
			}
			if missing == 0 {
				break
			}
			if time.Since(start) > clusterTimeout {
				t.Fatalf("%s still misses %d of %d objects after %s", node, missing, len(cl.objs), clusterTimeout)
			}
			time.Sleep(2 * time.Second)
		}
		cl.checkVectors(t, node, "&node_name="+node)
	}
	t.Logf("cluster: every node holds the %d objects (after %s)", len(cl.objs), time.Since(start).Round(100*time.Millisecond))
}

// search runs nearText and nearImage through node: the hits and their
// distances are those computed here.
func (cl *cluster) search(t *testing.T, node string) {
	t.Helper()
	img := testimage.GradientPNGBase64(5, 52, 40)
	iv, errs := cl.vec.EncodeImagesBase64(context.Background(), []string{img})
	require.NoError(t, errs[0])
	tv, errs := cl.vec.EncodeTexts(context.Background(), []string{"ein Hund im Schnee"})
	require.NoError(t, errs[0])
	for _, q := range []struct {
		arg    string
		vector []float32
	}{
		{`nearText:{concepts:["ein Hund im Schnee"]}`, tv[0]},
		{fmt.Sprintf("nearImage:{image:%q}", img), iv[0]},
	} {
		dist := map[string]float64{}
		best := math.Inf(1)
		for _, o := range cl.objs {
			dist[o.id] = 1 - vectorizer.Cosine(q.vector, o.vector)
			best = math.Min(best, dist[o.id])
		}
		hits := harness.NearHits(t, cl.url(node, "/v1/graphql"), clusterClass, q.arg, 3)
		require.Len(t, hits, 3, "%s through %s", q.arg[:8], node)
		assert.InDelta(t, best, hits[0].Distance, 1e-3, "the first hit is the nearest object")
		for _, h := range hits {
			want, ok := dist[h.ID]
			require.True(t, ok, "unknown hit %s", h.ID)
			assert.InDelta(t, want, h.Distance, 1e-3, "hit %s through %s", h.ID, node)
		}
	}
}
