// Package harness starts a server binary for end-to-end tests: free ports,
// a temporary data directory, a readiness wait, a stop, and the server's
// log printed when the test failed.
package harness

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Config describes a server process.
type Config struct {
	// Binary is the server executable.
	Binary string
	// Args are its command-line arguments.
	Args []string
	// Env is its whole environment besides PATH, HOME and TMPDIR, which
	// are inherited.
	Env map[string]string
	// ReadyURL is polled until it answers 2xx.
	ReadyURL string
	// StartTimeout bounds the wait for ReadyURL (default 2 minutes).
	StartTimeout time.Duration
}

// Server is a running server process.
type Server struct {
	cfg  Config
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{}
	err  error // the process's exit, valid after done

	stopOnce sync.Once
}

// Start starts the server, waits until it is ready, and stops it when the
// test ends, printing its log if the test failed.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	s, err := Launch(cfg)
	if s != nil {
		t.Cleanup(func() {
			s.Stop()
			if t.Failed() {
				t.Logf("%s log:\n%s", filepath.Base(cfg.Binary), s.logTail())
			}
		})
	}
	if err != nil {
		t.Fatalf("start %s: %v", filepath.Base(cfg.Binary), err)
	}
	return s
}

// Launch starts the server and waits until it is ready. On an error the
// returned server (if any) has its log; the caller stops it.
func Launch(cfg Config) (*Server, error) {
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = 2 * time.Minute
	}
	if _, err := os.Stat(cfg.Binary); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, logs: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(cfg.Binary, cfg.Args...)
	s.cmd.Env = environ(cfg.Env)
	s.cmd.Stdout = s.logs
	s.cmd.Stderr = s.logs
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	if cfg.ReadyURL == "" {
		return s, nil
	}
	return s, s.waitReady(cfg.ReadyURL, cfg.StartTimeout)
}

func environ(env map[string]string) []string {
	var out []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			if _, set := env[k]; !set {
				out = append(out, k+"="+v)
			}
		}
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+env[k])
	}
	return out
}

func (s *Server) waitReady(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-s.done:
			return fmt.Errorf("exited before it was ready: %v", s.err)
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready at %s after %s (last: %v)", url, timeout, describe(resp, err))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func describe(resp *http.Response, err error) string {
	if err != nil {
		return err.Error()
	}
	return resp.Status
}

// Stop sends SIGTERM, waits up to 20 s, then kills the process group.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		select {
		case <-s.done:
			return
		default:
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.done
		}
	})
}

// Running reports whether the process has not exited.
func (s *Server) Running() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Logs returns what the server wrote to stdout and stderr so far.
func (s *Server) Logs() string { return s.logs.String() }

// logTail is the end of the log shown for a failed test.
func (s *Server) logTail() string {
	const max = 64 << 10
	l := s.Logs()
	if len(l) > max {
		return "[...]\n" + l[len(l)-max:]
	}
	return l
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// RepoRoot returns the directory of the nearest go.mod above the working
// directory: where the tests find bin/.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Binary returns the path of bin/NAME in the repository. When it is
// absent the test is skipped, except in CI (CI=true), where it fails:
// there the Makefile builds it first.
func Binary(t testing.TB, name, buildHint string) string {
	t.Helper()
	p := filepath.Join(RepoRoot(t), "bin", name)
	if _, err := os.Stat(p); err != nil {
		if isCI() {
			t.Fatalf("%s is missing (CI=true): %s", p, buildHint)
		}
		t.Skipf("%s is missing: %s", p, buildHint)
	}
	return p
}

func isCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v == "true" || v == "1"
}

// Weaviate describes a Weaviate server started on free ports.
type Weaviate struct {
	*Server
	Config             Config
	HTTPPort, GRPCPort int
	// GossipPort (TCP and UDP), DataPort, RaftPort and RaftRPCPort are
	// the cluster's ports, free ones so that servers run side by side
	// (unless the env given to NewWeaviate sets others).
	GossipPort, DataPort, RaftPort, RaftRPCPort int
	DataDir                                     string
}

// HTTPHost is host:port of the REST and GraphQL API.
func (w *Weaviate) HTTPHost() string { return fmt.Sprintf("127.0.0.1:%d", w.HTTPPort) }

// GRPCHost is host:port of the gRPC API.
func (w *Weaviate) GRPCHost() string { return fmt.Sprintf("127.0.0.1:%d", w.GRPCPort) }

// StartWeaviate starts a single-node Weaviate binary (stock or with
// modules compiled in) on free loopback ports with a temporary data
// directory, anonymous access and no telemetry; env adds to or overrides
// that environment (ENABLE_MODULES, the modules' settings).
func StartWeaviate(t testing.TB, binary string, env map[string]string) *Weaviate {
	t.Helper()
	w := NewWeaviate(t, binary, env)
	w.Server = Start(t, w.Config)
	return w
}

// NewWeaviate prepares what StartWeaviate starts, without starting it:
// Launch(w.Config) starts it where a test expects it to fail.
func NewWeaviate(t testing.TB, binary string, env map[string]string) *Weaviate {
	t.Helper()
	w := &Weaviate{
		HTTPPort: FreePort(t), GRPCPort: FreePort(t),
		GossipPort: FreePort(t), DataPort: FreePort(t), RaftPort: FreePort(t), RaftRPCPort: FreePort(t),
		DataDir: t.TempDir(),
	}
	// Weaviate binds the REST API to --host and the gossip and Raft ports
	// to CLUSTER_BIND_ADDR; gRPC and the data port are on every interface
	// whatever it is told (docs/ports.md). Its profiling and debug server
	// would be on every interface too, and on one fixed port for all
	// servers side by side: it is off.
	base := map[string]string{
		"PERSISTENCE_DATA_PATH":                   w.DataDir,
		"AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED": "true",
		"DEFAULT_VECTORIZER_MODULE":               "none",
		"DISABLE_TELEMETRY":                       "true",
		"QUERY_DEFAULTS_LIMIT":                    "25",
		"LOG_LEVEL":                               "info",
		"CLUSTER_HOSTNAME":                        "node1",
		"CLUSTER_BIND_ADDR":                       "127.0.0.1",
		"CLUSTER_ADVERTISE_ADDR":                  "127.0.0.1",
		"CLUSTER_GOSSIP_BIND_PORT":                fmt.Sprint(w.GossipPort),
		"CLUSTER_DATA_BIND_PORT":                  fmt.Sprint(w.DataPort),
		"RAFT_PORT":                               fmt.Sprint(w.RaftPort),
		"RAFT_INTERNAL_RPC_PORT":                  fmt.Sprint(w.RaftRPCPort),
		"RAFT_BOOTSTRAP_EXPECT":                   "1",
		"GRPC_PORT":                               fmt.Sprint(w.GRPCPort),
		"GO_PROFILING_DISABLE":                    "true",
		"GOMAXPROCS":                              fmt.Sprint(runtime.NumCPU()),
	}
	for k, v := range env {
		base[k] = v
	}
	w.Config = Config{
		Binary:   binary,
		Args:     []string{"--host", "127.0.0.1", "--port", fmt.Sprint(w.HTTPPort), "--scheme", "http"},
		Env:      base,
		ReadyURL: fmt.Sprintf("http://127.0.0.1:%d/v1/.well-known/ready", w.HTTPPort),
	}
	return w
}

// syncBuffer is a bytes.Buffer safe for the process's writers and readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
