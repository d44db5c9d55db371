package harness

import (
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The test binary doubles as the server under test when HARNESS_SERVER
// names a mode.
func TestMain(m *testing.M) {
	switch os.Getenv("HARNESS_SERVER") {
	case "":
		os.Exit(m.Run())
	case "serve":
		fmt.Println("serving on", os.Getenv("PORT"), "with", os.Getenv("GREETING"))
		time.Sleep(300 * time.Millisecond) // not ready at once
		http.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) { _, _ = fmt.Fprint(w, "ok") })
		fmt.Fprintln(os.Stderr, http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), nil))
		os.Exit(1)
	case "exit":
		fmt.Fprintln(os.Stderr, "fatal: models missing")
		os.Exit(3)
	case "hang":
		time.Sleep(time.Hour)
	}
}

func self(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	return exe
}

func TestLaunch(t *testing.T) {
	port := FreePort(t)
	tests := []struct {
		name     string
		mode     string
		timeout  time.Duration
		wantErr  string
		wantLogs string
	}{
		{name: "ready", mode: "serve", wantLogs: fmt.Sprintf("serving on %d with hello", port)},
		{name: "exits before ready", mode: "exit", wantErr: "exited before it was ready: exit status 3", wantLogs: "fatal: models missing"},
		{name: "never ready", mode: "hang", timeout: time.Second, wantErr: "not ready at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Launch(Config{
				Binary:       self(t),
				Env:          map[string]string{"HARNESS_SERVER": tt.mode, "PORT": fmt.Sprint(port), "GREETING": "hello"},
				ReadyURL:     fmt.Sprintf("http://127.0.0.1:%d/ready", port),
				StartTimeout: tt.timeout,
			})
			require.NotNil(t, s)
			defer s.Stop()
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
			} else {
				require.NoError(t, err)
				assert.True(t, s.Running())
			}
			assert.Contains(t, s.Logs(), tt.wantLogs)
			s.Stop()
			assert.False(t, s.Running())
			s.Stop() // twice is fine
		})
	}
}

func TestLaunchMissingBinary(t *testing.T) {
	s, err := Launch(Config{Binary: "/nonexistent/server"})
	assert.Nil(t, s)
	assert.Error(t, err)
}

func TestEnvironment(t *testing.T) {
	t.Setenv("PATH", "/usr/bin")
	t.Setenv("SECRET_FROM_PARENT", "x")
	env := environ(map[string]string{"B": "2", "A": "1"})
	assert.Contains(t, env, "PATH=/usr/bin")
	assert.NotContains(t, env, "SECRET_FROM_PARENT=x", "only PATH, HOME and TMPDIR are inherited")
	assert.Equal(t, []string{"A=1", "B=2"}, env[len(env)-2:])
}

func TestNewWeaviate(t *testing.T) {
	w := NewWeaviate(t, "/bin/weaviate", map[string]string{"ENABLE_MODULES": "multi2vec-mclip", "LOG_LEVEL": "debug"})
	assert.Equal(t, "multi2vec-mclip", w.Config.Env["ENABLE_MODULES"])
	assert.Equal(t, "debug", w.Config.Env["LOG_LEVEL"], "env overrides the defaults")
	assert.Equal(t, "127.0.0.1", w.Config.Env["CLUSTER_BIND_ADDR"])
	assert.Equal(t, fmt.Sprint(w.GRPCPort), w.Config.Env["GRPC_PORT"])
	assert.Equal(t, w.DataDir, w.Config.Env["PERSISTENCE_DATA_PATH"])
	assert.Equal(t, fmt.Sprintf("127.0.0.1:%d", w.HTTPPort), w.HTTPHost())
	assert.Contains(t, w.Config.Args, fmt.Sprint(w.HTTPPort))
	assert.NotEqual(t, w.HTTPPort, w.GRPCPort)
	for env, port := range map[string]int{
		"CLUSTER_GOSSIP_BIND_PORT": w.GossipPort, "CLUSTER_DATA_BIND_PORT": w.DataPort,
		"RAFT_PORT": w.RaftPort, "RAFT_INTERNAL_RPC_PORT": w.RaftRPCPort,
	} {
		assert.Equal(t, fmt.Sprint(port), w.Config.Env[env], env)
	}
	assert.Equal(t, "true", w.Config.Env["GO_PROFILING_DISABLE"], "the profiling server binds every interface")
}
