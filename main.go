// Command defender_exporter exports the security posture of Microsoft
// Defender for Endpoint and Defender XDR tenants as Prometheus metrics.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"
	sloggokit "github.com/tjhop/slog-gokit"

	"github.com/defender-exporter/defender_exporter/collector"
	"github.com/defender-exporter/defender_exporter/config"
)

const exporterName = "defender_exporter"

// errHelpOrVersion means --help or --version printed what was asked.
var errHelpOrVersion = errors.New("help or version printed")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// flags holds the parsed command line.
type flags struct {
	configFile           string
	configCheck          bool
	telemetryPath        string
	enableLifecycle      bool
	disableExporterStats bool
	maxRequests          int
	logLevel             string
	logFormat            string
	demo                 bool
	demoBurst            time.Duration
	demoAPI              string
	shutdownTimeout      time.Duration
	refreshConcurrency   int
	tenantConcurrency    int
	shardCount           int
	shardIndex           int
	shardFromHostname    bool
	web                  *web.FlagConfig
	// collectorFlags holds --collector.<name> / --no-collector.<name>
	// given on the command line; unset ones leave the file's choice.
	collectorFlags map[string]*bool
	collectorSet   map[string]*bool
}

func parseFlags(args []string, stdout, stderr io.Writer) (*flags, error) {
	app := kingpin.New(exporterName, "Prometheus exporter for Microsoft Defender for Endpoint and Defender XDR.")
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	// --help and --version end the program; keep run testable by
	// turning that into an error instead of os.Exit.
	terminated := false
	app.Terminate(func(int) { terminated = true })
	f := &flags{collectorFlags: map[string]*bool{}, collectorSet: map[string]*bool{}}
	app.Flag("config.file", "Configuration file. Without one, a single tenant named \"default\" is built from the AZURE_* environment variables.").
		Default("").StringVar(&f.configFile)
	app.Flag("config.check", "Validate the configuration, print it with secrets hidden, and exit.").BoolVar(&f.configCheck)
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&f.telemetryPath)
	app.Flag("web.enable-lifecycle", "Enable POST /-/reload.").BoolVar(&f.enableLifecycle)
	app.Flag("web.disable-exporter-metrics", "Exclude the exporter's Go runtime and process metrics (promhttp_*, process_*, go_*).").BoolVar(&f.disableExporterStats)
	app.Flag("web.max-requests", "Maximum number of parallel scrape requests. 0 means no limit.").Default("40").IntVar(&f.maxRequests)
	app.Flag("web.shutdown-timeout", "How long a SIGTERM waits for in-flight requests before exiting.").Default("10s").DurationVar(&f.shutdownTimeout)
	app.Flag("log.level", "Only log messages with the given severity or above. One of: [debug, info, warn, error]").Default("info").EnumVar(&f.logLevel, "debug", "info", "warn", "error")
	app.Flag("log.format", "Output format of log messages. One of: [logfmt, json]").Default("logfmt").EnumVar(&f.logFormat, "logfmt", "json")
	app.Flag("demo", "Serve embedded fake Defender tenants and export them: a look at the metrics without an Entra app.").BoolVar(&f.demo)
	app.Flag("demo.alert-burst-after", "With --demo: after this long, the contoso tenant raises a burst of new High-severity alerts (for trying the alerting rules end to end). 0 = never.").
		Default("0s").DurationVar(&f.demoBurst)
	app.Flag("demo.api", "With --demo: the back end of every collector that has several: mde, or graph (Microsoft Graph; device posture through advanced hunting).").Default("mde").EnumVar(&f.demoAPI, "mde", "graph")
	app.Flag("refresh.concurrency", "Maximum number of background refreshes running at once, all tenants together.").
		Default("8").IntVar(&f.refreshConcurrency)
	app.Flag("refresh.tenant-concurrency", "Maximum number of background refreshes of one tenant running at once, so that a slow tenant cannot hold every slot.").
		Default("2").IntVar(&f.tenantConcurrency)
	app.Flag("shard.count", "Number of replicas the tenants are split across; each replica exports the tenants of its shard (a hash of the tenant name).").
		Default("1").Envar("SHARD_COUNT").IntVar(&f.shardCount)
	app.Flag("shard.index", "This replica's shard, 0 to shard.count-1.").
		Default("0").Envar("SHARD_INDEX").IntVar(&f.shardIndex)
	app.Flag("shard.index-from-hostname", "Take the shard index from the trailing ordinal of the host name, as a StatefulSet names its pods (defender-exporter-2 is shard 2).").
		BoolVar(&f.shardFromHostname)
	for _, name := range config.CollectorNames {
		set := new(bool)
		f.collectorSet[name] = set
		f.collectorFlags[name] = app.Flag("collector."+name,
			fmt.Sprintf("Enable the %s collector, overriding the configuration file (default: %s in the file).", name, defaultState(name))).
			IsSetByUser(set).Bool()
	}
	f.web = kingpinflag.AddFlags(app, ":9925")
	app.Version(version.Print(exporterName))
	app.HelpFlag.Short('h')
	_, err := app.Parse(args)
	if terminated {
		return nil, errHelpOrVersion
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

func defaultState(name string) string {
	if config.DefaultCollector(name).Enabled {
		return "enabled"
	}
	return "disabled"
}

// overrides returns the collectors switched on the command line.
func (f *flags) overrides() map[string]bool {
	o := map[string]bool{}
	for name, set := range f.collectorSet {
		if *set {
			o[name] = *f.collectorFlags[name]
		}
	}
	return o
}

func newLogger(f *flags, w io.Writer) (log.Logger, *slog.Logger) {
	var logger log.Logger
	if f.logFormat == "json" {
		logger = log.NewJSONLogger(log.NewSyncWriter(w))
	} else {
		logger = log.NewLogfmtLogger(log.NewSyncWriter(w))
	}
	logger = level.NewFilter(logger, level.Allow(level.ParseDefault(f.logLevel, level.InfoValue())))
	// exporter-toolkit wants a *slog.Logger; bridge it into the same go-kit
	// logger so every line leaves the same way. The bridge brings its own
	// time and caller, so it gets the logger before ours are added (with
	// its time renamed and formatted as ours); the go-kit filter above does
	// the level filtering for both.
	slogger := slog.New(sloggokit.NewGoKitHandler(slogLines(logger), slog.LevelDebug))
	logger = log.With(logger, "ts", log.DefaultTimestampUTC, "caller", log.DefaultCaller)
	return logger, slogger
}

// slogLines makes the bridge's lines look like the exporter's: the bridge
// writes level, caller, time (a time.Time, in the local zone), msg; ours
// are level, ts (RFC 3339 in UTC, as log.DefaultTimestampUTC), caller, msg.
func slogLines(next log.Logger) log.Logger {
	return log.LoggerFunc(func(keyvals ...any) error {
		out := make([]any, 0, len(keyvals))
		var ts, caller []any
		rest := keyvals
		for len(rest) >= 2 {
			k, v := rest[0], rest[1]
			switch {
			case k == slog.TimeKey && ts == nil:
				if t, ok := v.(time.Time); ok {
					ts = []any{"ts", t.UTC().Format(time.RFC3339Nano)}
					rest = rest[2:]
					continue
				}
			case k == "caller" && caller == nil:
				caller = []any{k, v}
				rest = rest[2:]
				continue
			}
			if k == slog.MessageKey {
				break // the record's own attributes follow
			}
			out = append(out, k, v)
			rest = rest[2:]
		}
		out = append(append(append(out, ts...), caller...), rest...)
		return next.Log(out...)
	})
}

func run(args []string, stdout, stderr io.Writer) int {
	f, err := parseFlags(args, stdout, stderr)
	if err != nil {
		if errors.Is(err, errHelpOrVersion) {
			return 0
		}
		fmt.Fprintln(stderr, err)
		return 2
	}
	logger, slogger := newLogger(f, stderr)

	if f.demo && f.configFile != "" {
		fmt.Fprintln(stderr, "--demo serves its own tenants; it cannot be combined with --config.file")
		return 2
	}

	if f.configCheck {
		return checkConfig(f, stdout, stderr)
	}
	shard, err := f.shard()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	return runExporter(f, shard, logger, slogger)
}

// runExporter runs the exporter: the demo tenants if asked, the
// scheduler, the first load of the configuration, the reloads and the web
// server, until SIGTERM or an interrupt (or a failure). It returns the
// exit code.
func runExporter(f *flags, shard config.Shard, logger log.Logger, slogger *slog.Logger) int {
	level.Info(logger).Log("msg", "starting "+exporterName, "version", version.Info(), "build_context", version.BuildContext())

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	configFile := f.configFile
	// One tenant's unreadable credential file fails that tenant alone; the
	// scheduler retries it until the file can be read.
	loadOpts := config.Options{CredentialFilesPerTenant: true}
	if f.demo {
		demo, err := startDemoMode(ctx, f, logger)
		if err != nil {
			level.Error(logger).Log("msg", "cannot start the demo tenants", "err", err)
			return 1
		}
		defer demo.Close()
		configFile = demo.configFile
	}

	exporterReg := prometheus.NewRegistry()
	if !f.disableExporterStats {
		exporterReg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(versioncollector.NewCollector("defender_exporter"))
	store := config.NewStore(reg)
	sched := newScheduler(f, reg, logger)
	defer sched.Stop()

	reload := newReloader(reloadSetup{
		store: store, file: configFile, opts: loadOpts, overrides: f.overrides(),
		shard: shard, sched: sched, logger: logger,
	})
	if err := reload(); err != nil {
		level.Error(logger).Log("msg", "cannot load the configuration", "err", err)
		return 1
	}

	reloadCh := make(chan chan error)
	mux, err := newMux(f, sched, metricsHandler(f, sched, exporterReg, reg, slogger), reloadCh)
	if err != nil {
		level.Error(logger).Log("msg", "cannot build the landing page", "err", err)
		return 1
	}

	// Reloads run on one goroutine, whether SIGHUP or HTTP asked.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go reloadLoop(ctx, reload, hup, reloadCh, logger)

	return serveHTTP(ctx, f, mux, logger, slogger)
}

// startDemoMode starts the embedded fake tenants, and their burst of
// alerts if --demo.alert-burst-after asks for one.
func startDemoMode(ctx context.Context, f *flags, logger log.Logger) (*demoEnv, error) {
	demo, err := startDemo(logger, f.demoAPI)
	if err != nil {
		return nil, err
	}
	if f.demoBurst > 0 {
		go demo.alertBurst(ctx, f.demoBurst, logger)
	}
	level.Info(logger).Log("msg", "demo mode: exporting embedded fake tenants", "tenants", strings.Join(demo.names(), ","))
	return demo, nil
}

// newScheduler builds the scheduler and the tenants' client factory, and
// registers their metrics in reg.
func newScheduler(f *flags, reg *prometheus.Registry, logger log.Logger) *collector.Scheduler {
	clients := newClientFactory(reg, logger)
	sched := collector.NewScheduler(logger, clients.build, collector.SchedulerOptions{
		OnTenantRemoved:   clients.forget,
		Concurrency:       f.refreshConcurrency,
		TenantConcurrency: f.tenantConcurrency,
	})
	// The snapshots are served pre-rendered by sched.Handler (see
	// metricsHandler); the registry holds the scheduler's status metrics
	// only.
	reg.MustRegister(sched.Status())
	return sched
}

// newMux routes the telemetry path, the health, readiness and reload
// endpoints, and the landing page unless the metrics are served at /.
func newMux(f *flags, sched *collector.Scheduler, metrics http.Handler, reloadCh chan<- chan error) (*http.ServeMux, error) {
	mux := http.NewServeMux()
	mux.Handle(f.telemetryPath, metrics)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Healthy.")
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !sched.Ready() {
			http.Error(w, "Not ready: not every tenant has finished its first refresh cycle.", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Ready.")
	})
	mux.HandleFunc("/-/reload", reloadHandler(f, reloadCh))
	if f.telemetryPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        "Defender Exporter",
			Description: "Prometheus exporter for Microsoft Defender for Endpoint and Defender XDR",
			Version:     version.Info(),
			Links: []web.LandingLinks{
				{Address: f.telemetryPath, Text: "Metrics"},
				{Address: "/-/healthy", Text: "Health"},
				{Address: "/-/ready", Text: "Readiness"},
			},
		})
		if err != nil {
			return nil, err
		}
		mux.Handle("/", landing)
	}
	return mux, nil
}

// reloadHandler serves /-/reload: it hands the request to the reload
// goroutine (reloadLoop) and answers with the outcome.
func reloadHandler(f *flags, reloadCh chan<- chan error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !f.enableLifecycle {
			http.Error(w, "Lifecycle API is not enabled; start with --web.enable-lifecycle.", http.StatusForbidden)
			return
		}
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			w.Header().Set("Allow", "POST, PUT")
			http.Error(w, "Only POST or PUT requests allowed.", http.StatusMethodNotAllowed)
			return
		}
		done := make(chan error)
		select {
		case reloadCh <- done:
		case <-r.Context().Done():
			return
		}
		if err := <-done; err != nil {
			http.Error(w, fmt.Sprintf("failed to reload config: %s", err), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "Reloaded.")
	}
}

// reloadLoop runs the reloads that SIGHUP (hup) and /-/reload (reloadCh)
// ask for, one at a time, until ctx ends. A failed reload leaves the
// previous configuration in force.
func reloadLoop(ctx context.Context, reload func() error, hup <-chan os.Signal, reloadCh <-chan chan error, logger log.Logger) {
	for {
		select {
		case <-hup:
			if err := reload(); err != nil {
				level.Error(logger).Log("msg", "reload failed; the previous configuration stays in force", "err", err)
			}
		case done := <-reloadCh:
			err := reload()
			if err != nil {
				level.Error(logger).Log("msg", "reload failed; the previous configuration stays in force", "err", err)
			}
			done <- err
		case <-ctx.Done():
			return
		}
	}
}

// serveHTTP serves mux until the server fails or ctx ends; then it shuts
// the server down, waiting up to --web.shutdown-timeout for the requests
// in flight. It returns the exit code.
func serveHTTP(ctx context.Context, f *flags, mux http.Handler, logger log.Logger, slogger *slog.Logger) int {
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- web.ListenAndServe(srv, f.web, slogger) }()
	select {
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			level.Error(logger).Log("msg", "web server failed", "err", err)
			return 1
		}
	case <-ctx.Done():
		level.Info(logger).Log("msg", "shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), f.shutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			level.Warn(logger).Log("msg", "shutdown did not finish in time", "err", err)
		}
	}
	return 0
}

// metricsHandler serves the telemetry path: the registries' metrics
// (the exporter's own and the scheduler's status), then the scheduler's
// rendered snapshots. --web.max-requests counts a scrape until its whole
// answer is written: writing the snapshots to a slow scraper is the
// expensive part.
func metricsHandler(f *flags, sched *collector.Scheduler, exporterReg, reg *prometheus.Registry, slogger *slog.Logger) http.Handler {
	h := limitInFlight(f.maxRequests, sched.Handler(promhttp.HandlerFor(prometheus.Gatherers{exporterReg, reg}, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(slogger.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      exporterReg,
	})))
	if !f.disableExporterStats {
		// Outside the limit, so that a refused scrape is counted (code 503).
		h = promhttp.InstrumentMetricHandler(exporterReg, h)
	}
	return h
}

// limitInFlight answers 503, as promhttp's MaxRequestsInFlight does, to a
// request that would be the n+1th in flight; n <= 0 means no limit.
func limitInFlight(n int, next http.Handler) http.Handler {
	if n <= 0 {
		return next
	}
	slots := make(chan struct{}, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			next.ServeHTTP(w, r)
		default:
			http.Error(w, fmt.Sprintf("Limit of concurrent requests reached (%d), try again later.", n), http.StatusServiceUnavailable)
		}
	})
}

// applier is what a reload hands the configuration to: the scheduler.
type applier interface {
	Apply(cfg *config.Config) error
}

// reloadSetup is what a reload works with.
type reloadSetup struct {
	store     *config.Store
	file      string
	opts      config.Options
	overrides map[string]bool
	shard     config.Shard
	sched     applier
	logger    log.Logger
}

// newReloader returns the function that loads the configuration and
// applies it, at start-up and at every SIGHUP or /-/reload.
func newReloader(r reloadSetup) func() error {
	return func() error {
		var cfg *config.Config
		all := 0
		// The store counts the reload successful only if applying it
		// worked too.
		_, err := r.store.ReloadWith(r.file, r.opts, func(loaded *config.Config) error {
			cfg = applyOverrides(loaded, r.overrides)
			all = len(cfg.Tenants)
			cfg = cfg.ForShard(r.shard)
			return r.sched.Apply(cfg)
		})
		if err != nil {
			return err
		}
		level.Info(r.logger).Log("msg", "configuration loaded", "source", cfg.Source, "tenants", len(cfg.Tenants), "collectors", strings.Join(enabledList(cfg), ","))
		if r.shard.Sharded() {
			level.Info(r.logger).Log("msg", "sharded: exporting this shard's tenants only", "shard", r.shard.Index, "shards", r.shard.Count, "tenants", len(cfg.Tenants), "of", all)
			if len(cfg.Tenants) == 0 {
				level.Warn(r.logger).Log("msg", "this shard owns no tenant: every tenant name hashes to another shard, so this replica exports only its own health", "shard", r.shard.Index, "shards", r.shard.Count)
			}
		}
		return nil
	}
}

func checkConfig(f *flags, stdout, stderr io.Writer) int {
	if f.demo {
		fmt.Fprintln(stderr, "--config.check has nothing to check with --demo")
		return 2
	}
	cfg, err := config.Load(f.configFile, config.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "configuration is not valid: %s\n", err)
		return 1
	}
	cfg = applyOverrides(cfg, f.overrides())
	out, err := cfg.Redacted()
	if err != nil {
		fmt.Fprintf(stderr, "cannot print the configuration: %s\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "configuration is valid (%s): %d tenant(s), collectors: %v\n---\n%s", cfg.Source, len(cfg.Tenants), enabledList(cfg), out)
	if err := printShards(f, cfg, stdout); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	return 0
}

// applyOverrides lets --collector.<name> / --no-collector.<name> win over
// the file, as node_exporter's flags do.
func applyOverrides(shared *config.Config, o map[string]bool) *config.Config {
	// The Store shares its Config; work on a copy.
	cfg := *shared
	cfg.Collectors = make(map[string]config.Collector, len(shared.Collectors))
	for name, c := range shared.Collectors {
		cfg.Collectors[name] = c
	}
	for name, on := range o {
		c := cfg.Collectors[name]
		c.Enabled = on
		cfg.Collectors[name] = c
	}
	return &cfg
}

func enabledList(cfg *config.Config) []string {
	var on []string
	for _, name := range config.CollectorNames {
		if cfg.Collectors[name].Enabled {
			on = append(on, name)
		}
	}
	return on
}
