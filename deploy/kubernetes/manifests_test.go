// Package kubernetes holds the Kubernetes manifests; its test checks that
// they parse, fit together, and carry the same alerting rules as
// alerts.rules.yml.
package kubernetes

import (
	"bytes"
	"errors"
	"io"
	"os"
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

// object is the part of a manifest the checks read.
type object struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string            `yaml:"name"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Data      map[string]string `yaml:"data"`
	Resources []string          `yaml:"resources"`
	Spec      yaml.Node         `yaml:"spec"`
}

func load(t *testing.T) map[string][]object {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	out := map[string][]object{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		for {
			var o object
			if err := dec.Decode(&o); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if o.APIVersion == "" || o.Kind == "" {
				t.Errorf("%s: a document without apiVersion or kind", f)
			}
			if o.Kind != "Kustomization" && o.Metadata.Name != "defender-exporter" {
				t.Errorf("%s: %s named %q, want defender-exporter", f, o.Kind, o.Metadata.Name)
			}
			out[f] = append(out[f], o)
		}
	}
	return out
}

func one(t *testing.T, all map[string][]object, file string) object {
	t.Helper()
	if len(all[file]) != 1 {
		t.Fatalf("%s: want one document, got %d", file, len(all[file]))
	}
	return all[file][0]
}

func decodeSpec(t *testing.T, o object, v any) {
	t.Helper()
	if err := o.Spec.Decode(v); err != nil {
		t.Fatalf("%s spec: %v", o.Kind, err)
	}
}

type container struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	VolumeMounts []struct {
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type workload struct {
	ServiceName string `yaml:"serviceName"`
	Replicas    int    `yaml:"replicas"`
	Template    struct {
		Metadata struct {
			Labels map[string]string `yaml:"labels"`
		} `yaml:"metadata"`
		Spec struct {
			ServiceAccountName string      `yaml:"serviceAccountName"`
			Containers         []container `yaml:"containers"`
		} `yaml:"spec"`
	} `yaml:"template"`
}

func TestManifestsFitTogether(t *testing.T) {
	all := load(t)

	kust := one(t, all, "kustomization.yaml")
	for f := range all {
		if f != "kustomization.yaml" && f != "deployment.yaml" && !slices.Contains(kust.Resources, f) {
			t.Errorf("%s is not in kustomization.yaml", f)
		}
	}
	for _, r := range kust.Resources {
		if _, ok := all[r]; !ok {
			t.Errorf("kustomization.yaml lists %s, which does not exist", r)
		}
	}

	sa := one(t, all, "serviceaccount.yaml")
	if sa.Kind != "ServiceAccount" || sa.Metadata.Annotations["azure.workload.identity/client-id"] == "" {
		t.Errorf("the service account lacks the azure.workload.identity/client-id annotation: %+v", sa.Metadata)
	}

	var svc struct {
		ClusterIP string `yaml:"clusterIP"`
		Selector  map[string]string
		Ports     []struct {
			Name       string `yaml:"name"`
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
		}
	}
	decodeSpec(t, one(t, all, "service.yaml"), &svc)
	var sm struct {
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		}
		Endpoints []struct {
			Port string `yaml:"port"`
			Path string `yaml:"path"`
		}
	}
	decodeSpec(t, one(t, all, "servicemonitor.yaml"), &sm)
	service := one(t, all, "service.yaml")
	for k, v := range sm.Selector.MatchLabels {
		if service.Metadata.Labels[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%s, which the Service does not carry", k, v)
		}
	}
	if len(sm.Endpoints) != 1 || len(svc.Ports) != 1 || sm.Endpoints[0].Port != svc.Ports[0].Name || sm.Endpoints[0].Path != "/metrics" {
		t.Errorf("ServiceMonitor endpoints %+v do not match the Service ports %+v", sm.Endpoints, svc.Ports)
	}

	cm := one(t, all, "configmap.yaml")
	for file, w := range map[string]workload{"statefulset.yaml": {}, "deployment.yaml": {}} {
		decodeSpec(t, one(t, all, file), &w)
		pod := w.Template.Spec
		if w.Template.Metadata.Labels["azure.workload.identity/use"] != "true" {
			t.Errorf("%s: the pod lacks the label azure.workload.identity/use: \"true\"", file)
		}
		for k, v := range svc.Selector {
			if w.Template.Metadata.Labels[k] != v {
				t.Errorf("%s: the Service selects %s=%s, which the pods do not carry", file, k, v)
			}
		}
		if pod.ServiceAccountName != sa.Metadata.Name {
			t.Errorf("%s: service account %q, want %q", file, pod.ServiceAccountName, sa.Metadata.Name)
		}
		if len(pod.Containers) != 1 || len(pod.Containers[0].Ports) != 1 || pod.Containers[0].Ports[0].Name != svc.Ports[0].TargetPort ||
			pod.Containers[0].Ports[0].ContainerPort != svc.Ports[0].Port {
			t.Fatalf("%s: the container ports do not match the Service's %+v", file, svc.Ports)
		}
		c := pod.Containers[0]
		// A release tag: latest would let replicas of one StatefulSet run
		// different exporters (deploy/helm's test keeps it the chart's appVersion).
		if _, tag, ok := strings.Cut(c.Image[strings.LastIndexByte(c.Image, '/')+1:], ":"); !ok || tag == "" || tag == "latest" {
			t.Errorf("%s: image %q names no release tag", file, c.Image)
		}
		var configFile string
		for _, a := range c.Args {
			if v, ok := strings.CutPrefix(a, "--config.file="); ok {
				configFile = v
			}
		}
		if _, ok := cm.Data[filepath.Base(configFile)]; !ok || len(c.VolumeMounts) == 0 || c.VolumeMounts[0].MountPath != filepath.Dir(configFile) {
			t.Errorf("%s: --config.file=%s is not the ConfigMap's file where it is mounted (%+v)", file, configFile, c.VolumeMounts)
		}
		if file == "statefulset.yaml" {
			if w.ServiceName != service.Metadata.Name || svc.ClusterIP != "None" {
				t.Errorf("the StatefulSet's serviceName %q is not the headless Service %q", w.ServiceName, service.Metadata.Name)
			}
			if !slices.Contains(c.Args, "--shard.count="+strconv.Itoa(w.Replicas)) || !slices.Contains(c.Args, "--shard.index-from-hostname") {
				t.Errorf("the StatefulSet runs %d replicas with args %v: --shard.count must equal replicas, with --shard.index-from-hostname", w.Replicas, c.Args)
			}
		} else if w.Replicas != 1 || slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--shard.") }) {
			t.Errorf("the Deployment is the unsharded variant: one replica, no --shard flags (%d, %v)", w.Replicas, c.Args)
		}
	}
}

// TestConfigMapIsValid: the example configuration passes the exporter's own
// validation, with the workload identity token file the webhook projects.
func TestConfigMapIsValid(t *testing.T) {
	cm := one(t, load(t), "configmap.yaml")
	const tokenFile = "/var/run/secrets/azure/tokens/azure-identity-token"
	cfg, err := config.Parse([]byte(cm.Data["defender.yml"]), "/etc/defender_exporter/defender.yml", config.Options{
		Getenv: func(string) (string, bool) { return "", false },
		ReadFile: func(name string) ([]byte, error) {
			if name == tokenFile {
				return []byte("eyJ0eXAiOiJKV1QifQ.e30.sig"), nil
			}
			return nil, os.ErrNotExist
		},
	})
	if err != nil {
		t.Fatalf("configmap.yaml's defender.yml: %v", err)
	}
	for _, tn := range cfg.Tenants {
		if tn.CredentialKind() != config.KindFederatedToken || tn.FederatedTokenFile != tokenFile {
			t.Errorf("tenant %s signs in with %s (%s), want the workload identity token", tn.Name, tn.CredentialKind(), tn.FederatedTokenFile)
		}
	}
}

// TestPrometheusRuleMatchesRulesFile: the PrometheusRule carries exactly
// the groups of alerts.rules.yml. When it fails, run
// scripts/gen-prometheusrule.sh.
func TestPrometheusRuleMatchesRulesFile(t *testing.T) {
	pr := one(t, load(t), "prometheusrule.yaml")
	if pr.Kind != "PrometheusRule" || pr.APIVersion != "monitoring.coreos.com/v1" {
		t.Fatalf("prometheusrule.yaml is a %s %s", pr.APIVersion, pr.Kind)
	}
	var spec any
	decodeSpec(t, pr, &spec)
	raw, err := os.ReadFile(filepath.Join("..", "..", "alerts.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules any
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatalf("alerts.rules.yml: %v", err)
	}
	if !reflect.DeepEqual(spec, rules) {
		t.Fatal("deploy/kubernetes/prometheusrule.yaml differs from alerts.rules.yml: run scripts/gen-prometheusrule.sh")
	}
}
