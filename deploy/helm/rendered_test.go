//go:build helm

// The objects helm renders for the chart's scenarios. scripts/helm-test.sh
// (make helm-test) renders them and runs this file with
// HELM_RENDERED=<directory of default.yaml, sharding.yaml,
// workload-identity.yaml, demo.yaml, existing-config.yaml>; without them
// every test fails.

package helm

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/defender-exporter/defender_exporter/config"
	// Registers the collectors, whose names, defaults and keys config.Parse checks.
	_ "github.com/defender-exporter/defender_exporter/collector"
)

// The values of the scenarios (values.yaml and ci/*-values.yaml) the tests
// expect to see rendered.
const (
	release       = "defender-exporter" // helm template defender-exporter ...
	port          = 9925
	tokenFile     = "/var/run/secrets/azure/tokens/azure-identity-token"
	secretName    = "defender-exporter-credentials" // ci/sharding-values.yaml
	secretMount   = "/run/secrets"
	clientID      = "00000000-0000-0000-0000-000000000000"
	configMount   = "/etc/defender_exporter"
	monitorLabel  = "kube-prometheus-stack" // release: label of ci/sharding-values.yaml
	defaultMemory = "460MiB"                // 90% of the 512Mi limit
)

type meta struct {
	Name        string            `yaml:"name"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type object struct {
	APIVersion                   string            `yaml:"apiVersion"`
	Kind                         string            `yaml:"kind"`
	Metadata                     meta              `yaml:"metadata"`
	Data                         map[string]string `yaml:"data"`
	AutomountServiceAccountToken *bool             `yaml:"automountServiceAccountToken"`
	Spec                         yaml.Node         `yaml:"spec"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

type container struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Env   []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	LivenessProbe   *probe `yaml:"livenessProbe"`
	ReadinessProbe  *probe `yaml:"readinessProbe"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		SubPath   string `yaml:"subPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"volumeMounts"`
}

type volume struct {
	Name      string     `yaml:"name"`
	EmptyDir  *yaml.Node `yaml:"emptyDir"`
	ConfigMap *struct {
		Name string `yaml:"name"`
	} `yaml:"configMap"`
	Secret *struct {
		SecretName  string `yaml:"secretName"`
		DefaultMode *int   `yaml:"defaultMode"`
	} `yaml:"secret"`
}

type statefulSet struct {
	ServiceName         string `yaml:"serviceName"`
	Replicas            int    `yaml:"replicas"`
	PodManagementPolicy string `yaml:"podManagementPolicy"`
	Selector            struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	} `yaml:"selector"`
	Template struct {
		Metadata meta `yaml:"metadata"`
		Spec     struct {
			ServiceAccountName           string `yaml:"serviceAccountName"`
			AutomountServiceAccountToken *bool  `yaml:"automountServiceAccountToken"`
			SecurityContext              struct {
				RunAsNonRoot *bool `yaml:"runAsNonRoot"`
				RunAsUser    *int  `yaml:"runAsUser"`
				RunAsGroup   *int  `yaml:"runAsGroup"`
				FSGroup      *int  `yaml:"fsGroup"`
			} `yaml:"securityContext"`
			Containers []container `yaml:"containers"`
			Volumes    []volume    `yaml:"volumes"`
		} `yaml:"spec"`
	} `yaml:"template"`
}

type service struct {
	ClusterIP                string            `yaml:"clusterIP"`
	PublishNotReadyAddresses bool              `yaml:"publishNotReadyAddresses"`
	Selector                 map[string]string `yaml:"selector"`
	Ports                    []struct {
		Name       string `yaml:"name"`
		Port       int    `yaml:"port"`
		TargetPort string `yaml:"targetPort"`
	} `yaml:"ports"`
}

type serviceMonitor struct {
	Selector struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	} `yaml:"selector"`
	Endpoints []struct {
		Port string `yaml:"port"`
		Path string `yaml:"path"`
	} `yaml:"endpoints"`
}

// rendered is one scenario's objects, by kind (the chart renders at most
// one of each).
type rendered struct {
	scenario string
	objects  map[string]object
}

func render(t *testing.T, scenario string) rendered {
	t.Helper()
	dir := os.Getenv("HELM_RENDERED")
	if dir == "" {
		t.Fatal("HELM_RENDERED is not set: run make helm-test, which renders the chart and points it at the output")
	}
	raw, err := os.ReadFile(filepath.Join(dir, scenario+".yaml"))
	if err != nil {
		t.Fatalf("%v (make helm-test renders it)", err)
	}
	r := rendered{scenario: scenario, objects: map[string]object{}}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var node yaml.Node
		if err := dec.Decode(&node); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", scenario, err)
		}
		if len(node.Content) == 0 || node.Content[0].Kind != yaml.MappingNode {
			continue // a document holding only comments
		}
		var o object
		if err := node.Decode(&o); err != nil {
			t.Fatalf("%s: %v", scenario, err)
		}
		if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
			t.Fatalf("%s: an object without apiVersion, kind or name: %+v", scenario, o)
		}
		if _, dup := r.objects[o.Kind]; dup {
			t.Fatalf("%s: two %s objects", scenario, o.Kind)
		}
		r.objects[o.Kind] = o
	}
	return r
}

func (r rendered) get(t *testing.T, kind string) object {
	t.Helper()
	o, ok := r.objects[kind]
	if !ok {
		t.Fatalf("%s: no %s rendered", r.scenario, kind)
	}
	return o
}

func (r rendered) kinds() []string {
	var k []string
	for kind := range r.objects {
		k = append(k, kind)
	}
	slices.Sort(k)
	return k
}

func decodeSpec(t *testing.T, o object, v any) {
	t.Helper()
	if err := o.Spec.Decode(v); err != nil {
		t.Fatalf("%s spec: %v", o.Kind, err)
	}
}

// workload checks what every scenario shares, and returns the StatefulSet
// and its one container.
func (r rendered) workload(t *testing.T) (statefulSet, container) {
	t.Helper()
	var sts statefulSet
	stsObj := r.get(t, "StatefulSet")
	decodeSpec(t, stsObj, &sts)
	if stsObj.APIVersion != "apps/v1" || stsObj.Metadata.Name != release {
		t.Errorf("%s: StatefulSet %s %s, want apps/v1 %s (the release's name, which holds the chart's)", r.scenario, stsObj.APIVersion, stsObj.Metadata.Name, release)
	}
	pod := sts.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", r.scenario, len(pod.Containers))
	}
	c := pod.Containers[0]

	// The image: the chart's appVersion, never latest.
	app := readChart(t).AppVersion
	if c.Image != "ghcr.io/defender-exporter/defender_exporter:"+app {
		t.Errorf("%s: image %q, want the chart's appVersion %s", r.scenario, c.Image, app)
	}

	// Ports: the container's, the listen address, the headless Service's.
	if len(c.Ports) != 1 || c.Ports[0].Name != "metrics" || c.Ports[0].ContainerPort != port {
		t.Errorf("%s: container ports %+v, want metrics %d", r.scenario, c.Ports, port)
	}
	if !slices.Contains(c.Args, "--web.listen-address=:"+strconv.Itoa(port)) {
		t.Errorf("%s: args %v do not listen on the container port %d", r.scenario, c.Args, port)
	}
	svcObj := r.get(t, "Service")
	var svc service
	decodeSpec(t, svcObj, &svc)
	if svc.ClusterIP != "None" || !svc.PublishNotReadyAddresses || sts.ServiceName != svcObj.Metadata.Name {
		t.Errorf("%s: the StatefulSet's serviceName %q is not the headless Service %q (clusterIP %q, publishNotReadyAddresses %v)",
			r.scenario, sts.ServiceName, svcObj.Metadata.Name, svc.ClusterIP, svc.PublishNotReadyAddresses)
	}
	if len(svc.Ports) != 1 || svc.Ports[0].Port != port || svc.Ports[0].TargetPort != "metrics" || svc.Ports[0].Name != "metrics" {
		t.Errorf("%s: Service ports %+v, want metrics %d -> metrics", r.scenario, svc.Ports, port)
	}
	for k, v := range svc.Selector {
		if pod := sts.Template.Metadata.Labels; pod[k] != v {
			t.Errorf("%s: the Service selects %s=%s, which the pods do not carry", r.scenario, k, v)
		}
	}
	for k, v := range sts.Selector.MatchLabels {
		if sts.Template.Metadata.Labels[k] != v {
			t.Errorf("%s: the StatefulSet selects %s=%s, which its pods do not carry", r.scenario, k, v)
		}
	}
	if len(svc.Selector) == 0 || len(sts.Selector.MatchLabels) == 0 {
		t.Errorf("%s: empty selector (Service %v, StatefulSet %v)", r.scenario, svc.Selector, sts.Selector.MatchLabels)
	}

	// Probes.
	for _, p := range []struct {
		name  string
		probe *probe
		path  string
	}{{"liveness", c.LivenessProbe, "/-/healthy"}, {"readiness", c.ReadinessProbe, "/-/ready"}} {
		if p.probe == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port != "metrics" {
			t.Errorf("%s: %s probe %+v, want GET %s on port metrics", r.scenario, p.name, p.probe, p.path)
		}
	}

	// Security: nobody, read-only root, no privilege escalation, no capabilities.
	sc := pod.SecurityContext
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != 65534 ||
		sc.RunAsGroup == nil || *sc.RunAsGroup != 65534 || sc.FSGroup == nil || *sc.FSGroup != 65534 {
		t.Errorf("%s: pod securityContext %+v, want non-root 65534:65534 with fsGroup 65534", r.scenario, sc)
	}
	csc := c.SecurityContext
	if csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation || csc.ReadOnlyRootFilesystem == nil ||
		!*csc.ReadOnlyRootFilesystem || !reflect.DeepEqual(csc.Capabilities.Drop, []string{"ALL"}) {
		t.Errorf("%s: container securityContext %+v, want no privilege escalation, read-only root, drop ALL", r.scenario, csc)
	}

	// The Kubernetes API token stays out of the pod; the service account is the chart's.
	sa := r.get(t, "ServiceAccount")
	if pod.ServiceAccountName != sa.Metadata.Name {
		t.Errorf("%s: serviceAccountName %q, want %q", r.scenario, pod.ServiceAccountName, sa.Metadata.Name)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken ||
		sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
		t.Errorf("%s: the Kubernetes API token is mounted", r.scenario)
	}

	// Mounts: directories only (subPath would hide a rotated secret or an
	// edited ConfigMap), each naming a volume, and a writable /tmp on the
	// read-only root.
	volumes := map[string]volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	tmp := false
	for _, m := range c.VolumeMounts {
		if m.SubPath != "" {
			t.Errorf("%s: volume %s is mounted with subPath %s", r.scenario, m.Name, m.SubPath)
		}
		v, ok := volumes[m.Name]
		if !ok {
			t.Errorf("%s: mount of volume %s, which the pod does not have", r.scenario, m.Name)
		}
		if m.MountPath == "/tmp" {
			tmp = v.EmptyDir != nil && !m.ReadOnly
		} else if !m.ReadOnly {
			t.Errorf("%s: %s is mounted writable", r.scenario, m.MountPath)
		}
	}
	if !tmp {
		t.Errorf("%s: no writable emptyDir at /tmp (--demo writes there; the root filesystem is read-only)", r.scenario)
	}

	if env := c.Env; len(env) == 0 || env[0].Name != "GOMEMLIMIT" || env[0].Value != defaultMemory {
		t.Errorf("%s: env %+v, want GOMEMLIMIT=%s (90%% of the memory limit)", r.scenario, env, defaultMemory)
	}
	return sts, c
}

// mountOf returns where a container mounts the volume that holds a
// ConfigMap or Secret of the given name, and whether it does.
func mountOf(sts statefulSet, c container, name string) (string, bool) {
	for _, v := range sts.Template.Spec.Volumes {
		if (v.ConfigMap != nil && v.ConfigMap.Name == name) || (v.Secret != nil && v.Secret.SecretName == name) {
			for _, m := range c.VolumeMounts {
				if m.Name == v.Name {
					return m.MountPath, true
				}
			}
		}
	}
	return "", false
}

// configOf checks that --config.file names the rendered ConfigMap's file
// where it is mounted, and returns that file parsed by the exporter's own
// configuration loader.
func (r rendered) configOf(t *testing.T, sts statefulSet, c container) *config.Config {
	t.Helper()
	var file string
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, "--config.file="); ok {
			file = v
		}
	}
	cm := r.get(t, "ConfigMap")
	dir, ok := mountOf(sts, c, cm.Metadata.Name)
	if file == "" || !ok || dir != configMount || path.Dir(file) != dir {
		t.Fatalf("%s: --config.file=%s is not in the directory %s where ConfigMap %s is mounted (%v)", r.scenario, file, dir, cm.Metadata.Name, ok)
	}
	text, ok := cm.Data[path.Base(file)]
	if !ok {
		t.Fatalf("%s: ConfigMap %s has no key %s", r.scenario, cm.Metadata.Name, path.Base(file))
	}
	// The pod's files: the workload identity token and the Secret's keys;
	// a credential file anywhere else does not exist there.
	cfg, err := config.Parse([]byte(text), file, config.Options{
		Getenv: func(string) (string, bool) { return "", false },
		ReadFile: func(name string) ([]byte, error) {
			if name == tokenFile || path.Dir(name) == secretMount {
				return []byte("eyJ0eXAiOiJKV1QifQ.e30.sig"), nil
			}
			return nil, os.ErrNotExist
		},
	})
	if err != nil {
		t.Fatalf("%s: the rendered configuration: %v", r.scenario, err)
	}
	if len(cfg.Tenants) == 0 {
		t.Fatalf("%s: the rendered configuration has no tenant", r.scenario)
	}
	if sum := sts.Template.Metadata.Annotations["checksum/config"]; len(sum) != 64 {
		t.Errorf("%s: pod annotation checksum/config %q: an inline configuration change would not restart the pods", r.scenario, sum)
	}
	return cfg
}

func TestRenderedDefault(t *testing.T) {
	r := render(t, "default")
	sts, c := r.workload(t)
	if got := r.kinds(); !reflect.DeepEqual(got, []string{"Service", "ServiceAccount", "StatefulSet"}) {
		t.Errorf("default values render %v", got)
	}
	if sts.Replicas != 1 {
		t.Errorf("default replicas %d, want 1", sts.Replicas)
	}
	// No configuration file: one tenant from the AZURE_* variables; no shard flags.
	want := []string{"--web.listen-address=:9925", "--web.enable-lifecycle", "--log.level=info", "--log.format=logfmt"}
	if !reflect.DeepEqual(c.Args, want) {
		t.Errorf("default args %v, want %v", c.Args, want)
	}
	if sts.Template.Metadata.Labels["azure.workload.identity/use"] != "" {
		t.Error("the default pods ask for workload identity")
	}
}

func TestRenderedSharding(t *testing.T) {
	r := render(t, "sharding")
	sts, c := r.workload(t)
	if got := r.kinds(); !reflect.DeepEqual(got, []string{"ConfigMap", "PrometheusRule", "Service", "ServiceAccount", "ServiceMonitor", "StatefulSet"}) {
		t.Errorf("sharding renders %v", got)
	}
	const replicas = 3
	if sts.Replicas != replicas || sts.PodManagementPolicy != "Parallel" {
		t.Fatalf("replicas %d (%s), want %d in parallel", sts.Replicas, sts.PodManagementPolicy, replicas)
	}
	want := []string{"--web.listen-address=:9925", "--config.file=/etc/defender_exporter/defender.yml",
		"--shard.count=3", "--shard.index-from-hostname", "--web.enable-lifecycle", "--log.level=info", "--log.format=logfmt"}
	if !reflect.DeepEqual(c.Args, want) {
		t.Errorf("sharding args %v, want %v", c.Args, want)
	}

	// Per replica: the pod <StatefulSet name>-i takes shard i of 3 from its
	// host name, as the exporter reads it; together the replicas export
	// every tenant exactly once.
	name := r.get(t, "StatefulSet").Metadata.Name
	cfg := r.configOf(t, sts, c)
	exported := map[string]int{}
	for i := range replicas {
		pod := name + "-" + strconv.Itoa(i)
		idx, err := config.ShardIndexFromHostname(pod)
		if err != nil || idx != i {
			t.Fatalf("pod %s: shard index %d (%v), want %d", pod, idx, err, i)
		}
		shard := config.Shard{Index: idx, Count: replicas}
		if err := shard.Validate(); err != nil {
			t.Fatalf("pod %s: %v", pod, err)
		}
		for _, tn := range cfg.Tenants {
			if config.ShardOf(tn.Name, replicas) == idx {
				exported[tn.Name]++
			}
		}
	}
	for _, tn := range cfg.Tenants {
		if exported[tn.Name] != 1 {
			t.Errorf("tenant %s is exported by %d replicas, want 1", tn.Name, exported[tn.Name])
		}
	}

	// Credentials: the existing Secret, mounted as a directory holding every
	// client_secret_file.
	dir, ok := mountOf(sts, c, secretName)
	if !ok || dir != secretMount {
		t.Fatalf("Secret %s is mounted at %q (%v), want %s", secretName, dir, ok, secretMount)
	}
	for _, v := range sts.Template.Spec.Volumes {
		if v.Secret != nil && (v.Secret.DefaultMode == nil || *v.Secret.DefaultMode != 0o440) {
			t.Errorf("Secret %s: defaultMode %v, want 0440 (the exporter's group, fsGroup 65534, only)", v.Secret.SecretName, v.Secret.DefaultMode)
		}
	}
	for _, tn := range cfg.Tenants {
		if tn.CredentialKind() != config.KindClientSecret || path.Dir(tn.ClientSecretFile) != secretMount {
			t.Errorf("tenant %s signs in with %s %q, want a client_secret_file in %s", tn.Name, tn.CredentialKind(), tn.ClientSecretFile, secretMount)
		}
	}

	// The ServiceMonitor scrapes the Service's port on every pod.
	var sm serviceMonitor
	smObj := r.get(t, "ServiceMonitor")
	decodeSpec(t, smObj, &sm)
	svc := r.get(t, "Service")
	for k, v := range sm.Selector.MatchLabels {
		if svc.Metadata.Labels[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%s, which the Service does not carry", k, v)
		}
	}
	if len(sm.Selector.MatchLabels) == 0 || len(sm.Endpoints) != 1 || sm.Endpoints[0].Port != "metrics" || sm.Endpoints[0].Path != "/metrics" {
		t.Errorf("ServiceMonitor %+v, want port metrics, /metrics, a selector", sm)
	}
	for _, o := range []object{smObj, r.get(t, "PrometheusRule")} {
		if o.APIVersion != "monitoring.coreos.com/v1" || o.Metadata.Labels["release"] != monitorLabel {
			t.Errorf("%s: apiVersion %s, labels %v, want monitoring.coreos.com/v1 with release=%s", o.Kind, o.APIVersion, o.Metadata.Labels, monitorLabel)
		}
	}
	checkRules(t, r)
}

func TestRenderedWorkloadIdentity(t *testing.T) {
	r := render(t, "workload-identity")
	sts, c := r.workload(t)
	sa := r.get(t, "ServiceAccount")
	if sa.Metadata.Annotations["azure.workload.identity/client-id"] != clientID {
		t.Errorf("service account annotations %v, want azure.workload.identity/client-id: %s", sa.Metadata.Annotations, clientID)
	}
	if sa.Metadata.Labels["azure.workload.identity/use"] != "true" || sa.Metadata.Labels["team"] != "secops" {
		t.Errorf("service account labels %v, want azure.workload.identity/use and the values' team label", sa.Metadata.Labels)
	}
	if sts.Template.Metadata.Labels["azure.workload.identity/use"] != "true" {
		t.Errorf("pod labels %v: the webhook only mutates pods labelled azure.workload.identity/use: \"true\"", sts.Template.Metadata.Labels)
	}
	for _, a := range c.Args {
		if strings.HasPrefix(a, "--shard.") {
			t.Errorf("one replica with shard flag %s", a)
		}
	}
	cfg := r.configOf(t, sts, c)
	for _, tn := range cfg.Tenants {
		if tn.CredentialKind() != config.KindFederatedToken || tn.FederatedTokenFile != tokenFile {
			t.Errorf("tenant %s signs in with %s (%s), want the workload identity token", tn.Name, tn.CredentialKind(), tn.FederatedTokenFile)
		}
	}
	// The string form of config.inline is kept as written.
	if !strings.HasPrefix(r.get(t, "ConfigMap").Data["defender.yml"], "# Every tenant signs in") {
		t.Error("the inline configuration lost its comment")
	}
	for _, v := range sts.Template.Spec.Volumes {
		if v.Secret != nil {
			t.Errorf("workload identity mounts Secret %s", v.Secret.SecretName)
		}
	}
}

func TestRenderedDemo(t *testing.T) {
	r := render(t, "demo")
	sts, c := r.workload(t)
	want := []string{"--web.listen-address=:9925", "--demo", "--demo.alert-burst-after=2m", "--web.enable-lifecycle", "--log.level=info", "--log.format=logfmt"}
	if !reflect.DeepEqual(c.Args, want) {
		t.Errorf("demo args %v, want %v", c.Args, want)
	}
	if _, ok := r.objects["ConfigMap"]; ok {
		t.Error("--demo with a ConfigMap: the exporter refuses --demo with --config.file")
	}
	for _, m := range c.VolumeMounts {
		if m.MountPath == configMount {
			t.Errorf("--demo mounts a configuration at %s", configMount)
		}
	}
	if sts.Replicas != 1 {
		t.Errorf("demo replicas %d, want 1", sts.Replicas)
	}
	checkRules(t, r)
}

// checkRules: the PrometheusRule carries exactly the groups of the
// repository's alerts.rules.yml (not only the chart's copy of it).
func checkRules(t *testing.T, r rendered) {
	t.Helper()
	var spec any
	decodeSpec(t, r.get(t, "PrometheusRule"), &spec)
	raw, err := os.ReadFile(filepath.Join("..", "..", "alerts.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules any
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatalf("alerts.rules.yml: %v", err)
	}
	if !reflect.DeepEqual(spec, rules) {
		t.Fatalf("%s: the PrometheusRule's spec differs from alerts.rules.yml: run make helm-rules", r.scenario)
	}
	if groups, _ := rules.(map[string]any)["groups"].([]any); len(groups) == 0 {
		t.Fatal("alerts.rules.yml has no groups")
	}
}

func TestRenderedExistingConfig(t *testing.T) {
	r := render(t, "existing-config")
	sts, c := r.workload(t)
	if got := r.kinds(); !reflect.DeepEqual(got, []string{"Service", "ServiceAccount", "StatefulSet"}) {
		t.Errorf("an existing ConfigMap renders %v, want no ConfigMap of the release", got)
	}
	if !slices.Contains(c.Args, "--config.file="+configMount+"/exporter.yml") {
		t.Errorf("args %v: --config.file must name the existing ConfigMap's key exporter.yml", c.Args)
	}
	if dir, ok := mountOf(sts, c, "defender-config"); !ok || dir != configMount {
		t.Errorf("ConfigMap defender-config is mounted at %q (%v), want %s", dir, ok, configMount)
	}
	if dir, ok := mountOf(sts, c, "defender-credentials"); !ok || dir != secretMount {
		t.Errorf("Secret defender-credentials is mounted at %q (%v), want %s", dir, ok, secretMount)
	}
	if _, ok := sts.Template.Metadata.Annotations["checksum/config"]; ok {
		t.Error("a checksum/config annotation for a ConfigMap the release does not own")
	}
}
