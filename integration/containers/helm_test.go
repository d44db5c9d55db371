package containers_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	usecasesconfig "github.com/weaviate/weaviate/usecases/config"
	"gopkg.in/yaml.v3"

	"github.com/mclip-go/mclip/integration/harness"
)

// chartDir is Weaviate's Helm chart, unmodified, beside the repository (no
// chart repository is reachable from CI).
const chartDir = "../shared/weaviate-helm-17.8.3/weaviate"

// The paths the rendered pods refer to inside the images.
const (
	imageEntrypoint = "/usr/local/bin/mclip-entrypoint" // deploy/docker/entrypoint
	imageWeaviate   = "/bin/weaviate"
	dataPath        = "/var/lib/weaviate"
)

// manifest is the part of a rendered Kubernetes object these tests read.
type manifest struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Replicas *int `yaml:"replicas"`
		Template struct {
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
		VolumeClaimTemplates []struct {
			Metadata struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
		} `yaml:"volumeClaimTemplates"`
		Ports []struct {
			Port int `yaml:"port"`
		} `yaml:"ports"`
	} `yaml:"spec"`
	Data map[string]string `yaml:"data"`
}

type podSpec struct {
	InitContainers []container `yaml:"initContainers"`
	Containers     []container `yaml:"containers"`
	Volumes        []struct {
		Name                  string `yaml:"name"`
		PersistentVolumeClaim *struct {
			ClaimName string `yaml:"claimName"`
		} `yaml:"persistentVolumeClaim"`
	} `yaml:"volumes"`
}

type container struct {
	Name    string   `yaml:"name"`
	Image   string   `yaml:"image"`
	Command []string `yaml:"command"`
	Args    []string `yaml:"args"`
	Env     []struct {
		Name      string    `yaml:"name"`
		Value     *string   `yaml:"value"`
		ValueFrom yaml.Node `yaml:"valueFrom"`
	} `yaml:"env"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		SubPath   string `yaml:"subPath"`
	} `yaml:"volumeMounts"`
	StartupProbe   *probe `yaml:"startupProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port int    `yaml:"port"`
	} `yaml:"httpGet"`
	InitialDelaySeconds int `yaml:"initialDelaySeconds"`
	PeriodSeconds       int `yaml:"periodSeconds"`
	FailureThreshold    int `yaml:"failureThreshold"`
}

// env is the container's environment as Kubernetes sets it: of two entries
// with one name the later wins. Entries from secrets (valueFrom) are absent.
func (c container) env() map[string]string {
	m := map[string]string{}
	for _, e := range c.Env {
		if e.Value != nil {
			m[e.Name] = *e.Value
		} else {
			delete(m, e.Name)
		}
	}
	return m
}

// envValues are all the values given to name, in order.
func (c container) envValues(name string) []string {
	var vs []string
	for _, e := range c.Env {
		if e.Name == name && e.Value != nil {
			vs = append(vs, *e.Value)
		}
	}
	return vs
}

// argv is what the container runs: its command and args.
func (c container) argv() []string {
	return append(slices.Clone(c.Command), c.Args...)
}

func (c container) mountAt(path string) (name, subPath string, ok bool) {
	for _, m := range c.VolumeMounts {
		if m.MountPath == path {
			return m.Name, m.SubPath, true
		}
	}
	return "", "", false
}

// rendered is one `helm template` of the chart.
type rendered struct {
	objs map[string]manifest // by kind/name
}

func (r rendered) get(t *testing.T, kind, name string) manifest {
	t.Helper()
	m, ok := r.objs[kind+"/"+name]
	require.True(t, ok, "the chart rendered no %s %s", kind, name)
	return m
}

func (r rendered) container(t *testing.T, kind, name, containerName string) container {
	t.Helper()
	for _, c := range r.get(t, kind, name).Spec.Template.Spec.Containers {
		if c.Name == containerName {
			return c
		}
	}
	t.Fatalf("%s %s has no container %s", kind, name, containerName)
	return container{}
}

// render runs bin/helm's `helm template` on the chart with a values file
// of deploy/helm and --set flags.
func render(t *testing.T, root, values string, set []string) rendered {
	t.Helper()
	helm := harness.Binary(t, "helm", "run make helm (builds bin/helm from tools/helm)")
	chart := filepath.Join(root, chartDir)
	if _, err := os.Stat(filepath.Join(chart, "Chart.yaml")); err != nil {
		if os.Getenv("CI") == "true" || os.Getenv("CI") == "1" {
			t.Fatalf("Weaviate's Helm chart is missing at %s (CI=true)", chart)
		}
		t.Skipf("Weaviate's Helm chart is missing at %s", chart)
	}
	args := []string{"template", "weaviate", chart, "--namespace", "weaviate",
		"-f", filepath.Join(root, "deploy/helm", values)}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	cmd := exec.Command(helm, args...)
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home+"/cache", "HELM_CONFIG_HOME="+home+"/config",
		"HELM_DATA_HOME="+home+"/data")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "helm %s\n%s", strings.Join(args, " "), stderr.String())

	r := rendered{objs: map[string]manifest{}}
	dec := yaml.NewDecoder(bytes.NewReader(out))
	for {
		var m manifest
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "helm's output")
		if m.Kind != "" {
			r.objs[m.Kind+"/"+m.Metadata.Name] = m
		}
	}
	require.NotEmpty(t, r.objs)
	return r
}

// started is what the Weaviate container starts: the command as the
// image's entrypoint execs it and its environment then, and whether the
// entrypoint pulled a model first.
type started struct {
	args   []string
	env    map[string]string
	pulled bool
}

// start runs a container's command (argv: its command and args) with its
// environment on this machine: deploy/docker/entrypoint where it names the
// image's entrypoint, and in place of /bin/weaviate a script that records
// its arguments and environment. The model directory (MCLIP_MODEL_DIR, when
// set) is an empty temporary directory and `mclip` a script that records a
// pull, so the entrypoint's own rules decide what runs.
func start(t *testing.T, root string, argv []string, env map[string]string) started {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.Mkdir(bin, 0o755))
	weaviate := filepath.Join(bin, "weaviate")
	script := func(path, body string) {
		require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755))
	}
	script(weaviate, `printf '%s\n' "$@" > "$OUT/args"; env > "$OUT/env"`+"\n")
	script(filepath.Join(bin, "mclip"), `case "$1 $2" in
"models pull") echo "$MCLIP_CACHE_DIR" > "$OUT/pulled" ;;
"models path") echo "$MCLIP_CACHE_DIR/model" ;;
*) exit 2 ;;
esac
`)
	env = maps.Clone(env)
	models := filepath.Join(dir, "models")
	require.NoError(t, os.Mkdir(models, 0o755))
	if _, ok := env["MCLIP_MODEL_DIR"]; ok {
		env["MCLIP_MODEL_DIR"] = models
	}
	env["PATH"] = bin + ":/usr/bin:/bin"
	env["OUT"] = dir

	argv = slices.Clone(argv)
	require.NotEmpty(t, argv)
	for i, a := range argv {
		switch a {
		case imageEntrypoint:
			argv[i] = filepath.Join(root, "deploy/docker/entrypoint")
		case imageWeaviate:
			argv[i] = weaviate
		}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s\n%s", strings.Join(argv, " "), out)

	var s started
	b, err := os.ReadFile(filepath.Join(dir, "args"))
	require.NoError(t, err, "the command did not start Weaviate: %s", out)
	s.args = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	s.env = map[string]string{}
	f, err := os.Open(filepath.Join(dir, "env"))
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			s.env[k] = v
		}
	}
	_, err = os.Stat(filepath.Join(dir, "pulled"))
	s.pulled = err == nil
	return s
}

func modules(env map[string]string) []string {
	var ms []string
	for _, m := range strings.Split(env["ENABLE_MODULES"], ",") {
		if m = strings.TrimSpace(m); m != "" {
			ms = append(ms, m)
		}
	}
	return ms
}

// collectionDir matches the directories Weaviate keeps a collection in
// (the lowercased class name) under its data path.
var collectionDir = regexp.MustCompile(`^[a-z][_0-9a-z]*$`)

// TestHelmRender renders deploy/helm's values files with Weaviate's own
// Helm chart (bin/helm, ../shared's chart 17.8.3), alone and with the
// chart's modules and backups on, at 1 and 3 replicas, and checks what the
// pods would run: the image and command, the modules Weaviate starts with
// once the image's entrypoint has run, the model's volume, the probes.
func TestHelmRender(t *testing.T) {
	root := harness.RepoRoot(t)

	t.Run("weaviate-mclip", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			set      []string
			replicas int
			// chartModules: the ENABLE_MODULES the chart itself writes.
			chartModules []string
			want         []string
		}{
			{name: "defaults", replicas: 1, want: []string{"multi2vec-mclip"}},
			{name: "3 replicas", set: []string{"replicas=3"}, replicas: 3, want: []string{"multi2vec-mclip"}},
			{name: "filesystem backups", set: []string{"backups.filesystem.enabled=true"}, replicas: 1,
				chartModules: []string{"backup-filesystem"},
				want:         []string{"backup-filesystem", "multi2vec-mclip"}},
			{name: "modules and backups at 3 replicas", replicas: 3,
				set: []string{"replicas=3", "backups.filesystem.enabled=true",
					"modules.generative-openai.enabled=true", "modules.reranker-cohere.enabled=true",
					"modules.text2vec-transformers.inferenceUrl=http://t2v.example:8080"},
				chartModules: []string{"text2vec-transformers", "generative-openai", "reranker-cohere", "backup-filesystem"},
				want:         []string{"text2vec-transformers", "generative-openai", "reranker-cohere", "backup-filesystem", "multi2vec-mclip"}},
			{name: "in-place multi2vec-clip with backups", replicas: 1,
				set: []string{"env.MCLIP_REPLACE_MULTI2VEC_CLIP=true", "env.MCLIP_ADD_MODULES=multi2vec-clip",
					"backups.filesystem.enabled=true"},
				chartModules: []string{"backup-filesystem"},
				want:         []string{"backup-filesystem", "multi2vec-clip"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := render(t, root, "weaviate-mclip.values.yaml", tc.set)
				sts := r.get(t, "StatefulSet", "weaviate")
				require.NotNil(t, sts.Spec.Replicas)
				assert.Equal(t, tc.replicas, *sts.Spec.Replicas)
				c := r.container(t, "StatefulSet", "weaviate", "weaviate")
				assert.Equal(t, "registry.example.com/weaviate-mclip:dev", c.Image)
				assert.Equal(t, []string{imageEntrypoint, imageWeaviate}, c.Command)
				assert.NotContains(t, r.objs, "Deployment/clip-inference", "no inference container is deployed")

				// The chart's ENABLE_MODULES, when it writes one, is the
				// one Kubernetes keeps: what the entrypoint starts from.
				if tc.chartModules != nil {
					assert.Equal(t, strings.Join(tc.chartModules, ","), c.env()["ENABLE_MODULES"])
				} else {
					assert.Empty(t, c.envValues("ENABLE_MODULES"))
				}

				s := start(t, root, c.argv(), c.env())
				assert.Equal(t, tc.want, modules(s.env), "ENABLE_MODULES Weaviate starts with")
				assert.True(t, s.pulled, "the entrypoint pulls the model when /models holds none")
				assert.Equal(t, append(append([]string{}, c.Command[2:]...), c.Args...), s.args,
					"Weaviate runs with the chart's arguments")
				assert.Contains(t, s.args, "/weaviate-config/conf.yaml")
				// The chart writes that file for Weaviate 1.38.2: every key
				// in it is one the Weaviate of weaviate-mclip reads.
				conf := r.get(t, "ConfigMap", "weaviate-config").Data["conf.yaml"]
				require.NotEmpty(t, conf)
				dec := yaml.NewDecoder(strings.NewReader(conf))
				dec.KnownFields(true)
				var cfg usecasesconfig.Config
				require.NoError(t, dec.Decode(&cfg), "the chart's conf.yaml:\n%s", conf)
				assert.True(t, cfg.Authentication.AnonymousAccess.Enabled, "the chart's default")
				if tc.replicas > 1 {
					assert.Equal(t, "3", s.env["RAFT_BOOTSTRAP_EXPECT"])
					assert.Equal(t, "weaviate-0,weaviate-1,weaviate-2", s.env["RAFT_JOIN"])
				}

				// The model lives in each pod's own claim, never in one
				// claim the pods share.
				modelDir := c.env()["MCLIP_MODEL_DIR"]
				require.NotEmpty(t, modelDir)
				vol, sub, ok := c.mountAt(modelDir)
				require.True(t, ok, "nothing is mounted at MCLIP_MODEL_DIR %s", modelDir)
				dataVol, dataSub, ok := c.mountAt(dataPath)
				require.True(t, ok)
				assert.Empty(t, dataSub)
				assert.Equal(t, dataVol, vol, "the model is in the pod's data volume")
				var templates []string
				for _, vct := range sts.Spec.VolumeClaimTemplates {
					templates = append(templates, vct.Metadata.Name)
				}
				assert.Contains(t, templates, vol, "the model's volume is a claim template: one claim per pod")
				assert.NotEmpty(t, sub, "the model has a directory of its own in the data volume")
				assert.False(t, collectionDir.MatchString(sub), "%s could be a collection's directory", sub)
				for _, v := range sts.Spec.Template.Spec.Volumes {
					assert.Nil(t, v.PersistentVolumeClaim, "volume %s is one claim shared by every pod", v.Name)
				}

				// Probes on Weaviate's port; the startup probe leaves time
				// for the pull, before which Weaviate does not listen.
				for name, p := range map[string]*probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
					require.NotNil(t, p, name)
					require.NotNil(t, p.HTTPGet, name)
					assert.Equal(t, 8080, p.HTTPGet.Port, name)
				}
				assert.Equal(t, "/v1/.well-known/ready", c.StartupProbe.HTTPGet.Path)
				assert.Equal(t, "/v1/.well-known/live", c.LivenessProbe.HTTPGet.Path)
				assert.Equal(t, "/v1/.well-known/ready", c.ReadinessProbe.HTTPGet.Path)
				assert.GreaterOrEqual(t, c.StartupProbe.InitialDelaySeconds+c.StartupProbe.PeriodSeconds*c.StartupProbe.FailureThreshold, 3600)
			})
		}
	})

	t.Run("mclip-inference", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			set      []string
			replicas int
			want     []string
		}{
			{name: "defaults", replicas: 1, want: []string{"multi2vec-clip"}},
			{name: "backups at 3 replicas", set: []string{"replicas=3", "backups.filesystem.enabled=true"}, replicas: 3,
				want: []string{"multi2vec-clip", "backup-filesystem"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := render(t, root, "mclip-inference.values.yaml", tc.set)
				sts := r.get(t, "StatefulSet", "weaviate")
				require.NotNil(t, sts.Spec.Replicas)
				assert.Equal(t, tc.replicas, *sts.Spec.Replicas)
				w := r.container(t, "StatefulSet", "weaviate", "weaviate")
				assert.Equal(t, []string{imageWeaviate}, w.Command, "stock Weaviate as the chart runs it")
				s := start(t, root, w.argv(), w.env())
				assert.Equal(t, tc.want, modules(s.env))
				assert.False(t, s.pulled)
				assert.Equal(t, "http://clip-inference.weaviate.svc.cluster.local.:8080", s.env["CLIP_INFERENCE_API"])

				inf := r.container(t, "Deployment", "clip-inference", "clip-inference")
				assert.Equal(t, "registry.example.com/mclip:dev", inf.Image)
				assert.Empty(t, inf.Command, "the image's entrypoint runs mclip serve")
				assert.Empty(t, inf.Args)
				assert.Equal(t, "0", inf.env()["ENABLE_CUDA"])
				// mclip serve answers both on 8080 (inferenceapi).
				require.NotNil(t, inf.LivenessProbe)
				require.NotNil(t, inf.ReadinessProbe)
				assert.Equal(t, "/.well-known/live", inf.LivenessProbe.HTTPGet.Path)
				assert.Equal(t, "/.well-known/ready", inf.ReadinessProbe.HTTPGet.Path)
				assert.Equal(t, 8080, inf.ReadinessProbe.HTTPGet.Port)
				svc := r.get(t, "Service", "clip-inference")
				require.Len(t, svc.Spec.Ports, 1)
				assert.Equal(t, 8080, svc.Spec.Ports[0].Port)
			})
		}
	})
}
