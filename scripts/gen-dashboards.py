#!/usr/bin/env python3
"""Generates dashboards/*.json: the three Grafana dashboards are written here, not by hand.

Usage: python3 scripts/gen-dashboards.py dashboards      (make dashboards)

Edit this file, regenerate, and commit both; the e2e's static checks fail when the JSON in
dashboards/ differs from what this script writes. Every panel query is also checked against a real
scrape (rules_test.go) and run against a real Prometheus (scripts/e2e.sh).
"""
import json
import os
import sys

DS = {"type": "prometheus", "uid": "${datasource}"}

SEVERITY_COLORS = {
    "Critical": "dark-red", "High": "red", "Medium": "orange", "Low": "yellow",
    "Informational": "blue", "UnSpecified": "text",
}
HEALTH_COLORS = {
    "Active": "green", "Inactive": "text", "ImpairedCommunication": "orange",
    "NoSensorData": "red", "NoSensorDataImpairedCommunication": "dark-red", "Unknown": "blue",
}
EXPOSURE_COLORS = {"None": "text", "Low": "green", "Medium": "orange", "High": "red"}
RISK_COLORS = {"None": "text", "Informational": "blue", "Low": "green", "Medium": "orange", "High": "red"}
AV_STATUS_COLORS = {"Updated": "green", "NotUpdated": "orange", "Disabled": "red", "NotReporting": "purple",
                    "Unknown": "text", "NotSupported": "blue"}
STATUS_COLORS = {"New": "red", "InProgress": "orange", "Resolved": "green", "Unknown": "text",
                 "Active": "red", "Redirected": "blue"}
UP_MAPPINGS = [{"type": "value", "options": {
    "0": {"text": "Down", "color": "red", "index": 0},
    "1": {"text": "Up", "color": "green", "index": 1}}}]
OK_MAPPINGS = [{"type": "value", "options": {
    "0": {"text": "Failed", "color": "red", "index": 0},
    "1": {"text": "OK", "color": "green", "index": 1}}}]


def steps(*pairs):
    """steps(("green", None), ("red", 1)) -> threshold steps."""
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for c, v in pairs]}


def color_overrides(mapping):
    return [{"matcher": {"id": "byName", "options": name},
             "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": color}}]}
            for name, color in mapping.items()]


def target(expr, legend="", ref="A", instant=False, fmt=None):
    t = {"datasource": DS, "expr": expr, "legendFormat": legend or "__auto", "refId": ref,
         "range": not instant, "instant": instant, "editorMode": "code"}
    if fmt:
        t["format"] = fmt
    return t


class Layout:
    def __init__(self):
        self.panels = []
        self.x = 0
        self.y = 0
        self.row_h = 0
        self.next_id = 1

    def _place(self, w, h):
        if self.x + w > 24:
            self.x = 0
            self.y += self.row_h
            self.row_h = 0
        pos = {"h": h, "w": w, "x": self.x, "y": self.y}
        self.x += w
        self.row_h = max(self.row_h, h)
        return pos

    def row(self, title):
        if self.x:
            self.y += self.row_h
        self.x, self.row_h = 0, 0
        self.panels.append({"type": "row", "title": title, "collapsed": False, "id": self._id(),
                            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": []})
        self.y += 1

    def _id(self):
        i = self.next_id
        self.next_id += 1
        return i

    def add(self, panel, w, h):
        panel["id"] = self._id()
        panel["gridPos"] = self._place(w, h)
        panel.setdefault("datasource", DS)
        self.panels.append(panel)
        return panel


def field_config(unit="short", thresholds=None, min_=None, max_=None, overrides=None, mappings=None,
                 custom=None, decimals=None, no_value=None, color_mode=None):
    d = {"unit": unit, "thresholds": thresholds or steps(("green", None)), "mappings": mappings or []}
    if min_ is not None:
        d["min"] = min_
    if max_ is not None:
        d["max"] = max_
    if decimals is not None:
        d["decimals"] = decimals
    if no_value is not None:
        d["noValue"] = no_value
    d["color"] = {"mode": color_mode or "palette-classic"}
    if custom:
        d["custom"] = custom
    return {"defaults": d, "overrides": overrides or []}


def describe(panel, description, optional=False):
    if optional:
        description = "Optional — " + description
    panel["description"] = description
    return panel


def stat(title, targets, description, unit="short", thresholds=None, mappings=None, no_value="0",
         graph=True, color_mode="background", decimals=None, optional=False, max_=None, min_=None):
    p = {"type": "stat", "title": title, "targets": targets,
         "fieldConfig": field_config(unit, thresholds, mappings=mappings, no_value=no_value,
                                     color_mode="thresholds", decimals=decimals, max_=max_, min_=min_),
         "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                     "colorMode": color_mode, "graphMode": "area" if graph else "none",
                     "justifyMode": "auto", "orientation": "auto", "textMode": "auto",
                     "wideLayout": True, "showPercentChange": False}}
    return describe(p, description, optional)


def timeseries(title, targets, description, unit="short", stack=False, overrides=None, thresholds=None,
               threshold_style="off", min_=0, max_=None, bars=False, optional=False, fill=10):
    custom = {"drawStyle": "bars" if bars else "line", "lineWidth": 1, "fillOpacity": 80 if bars else fill,
              "gradientMode": "none", "showPoints": "never", "spanNulls": False, "axisPlacement": "auto",
              "stacking": {"mode": "normal" if stack else "none", "group": "A"},
              "thresholdsStyle": {"mode": threshold_style}, "lineInterpolation": "linear"}
    p = {"type": "timeseries", "title": title, "targets": targets,
         "fieldConfig": field_config(unit, thresholds, min_=min_, max_=max_, overrides=overrides, custom=custom),
         "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True,
                                "calcs": []},
                     "tooltip": {"mode": "multi", "sort": "desc"}}}
    return describe(p, description, optional)


def bargauge(title, targets, description, unit="short", thresholds=None, overrides=None, min_=0, max_=None,
             optional=False, color_mode="thresholds"):
    p = {"type": "bargauge", "title": title, "targets": targets,
         "fieldConfig": field_config(unit, thresholds, min_=min_, max_=max_, overrides=overrides,
                                     color_mode=color_mode),
         "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                     "displayMode": "gradient", "orientation": "horizontal", "showUnfilled": True,
                     "valueMode": "color", "namePlacement": "auto", "sizing": "auto",
                     "minVizHeight": 16, "minVizWidth": 8, "maxVizHeight": 300}}
    return describe(p, description, optional)


def gauge(title, targets, description, unit="percentunit", thresholds=None, min_=0, max_=1, optional=False):
    p = {"type": "gauge", "title": title, "targets": targets,
         "fieldConfig": field_config(unit, thresholds, min_=min_, max_=max_, color_mode="thresholds"),
         "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                     "showThresholdLabels": False, "showThresholdMarkers": True, "orientation": "auto",
                     "minVizHeight": 75, "minVizWidth": 75, "sizing": "auto"}}
    return describe(p, description, optional)


def piechart(title, targets, description, overrides=None, unit="short", optional=False):
    p = {"type": "piechart", "title": title, "targets": targets,
         "fieldConfig": field_config(unit, overrides=overrides),
         "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                     "pieType": "donut", "displayLabels": [],
                     "legend": {"displayMode": "table", "placement": "right", "showLegend": True,
                                "values": ["value", "percent"]},
                     "tooltip": {"mode": "single", "sort": "none"}}}
    return describe(p, description, optional)


def table(title, targets, description, rename=None, unit_overrides=None, exclude=("Time",), links=None,
          sort=None, optional=False, unit="short", thresholds=None, cell_color=False):
    excl = {name: True for name in exclude}
    overrides = []
    for field, props in (unit_overrides or {}).items():
        overrides.append({"matcher": {"id": "byName", "options": field},
                          "properties": [{"id": k, "value": v} for k, v in props.items()]})
    if links:
        for field, link in links.items():
            overrides.append({"matcher": {"id": "byName", "options": field},
                              "properties": [{"id": "links", "value": [link]}]})
    transformations = []
    if len(targets) > 1:
        transformations.append({"id": "merge", "options": {}})
    transformations.append({"id": "organize", "options": {"excludeByName": excl, "renameByName": rename or {},
                                                          "indexByName": {}}})
    custom = {"align": "auto", "cellOptions": {"type": "color-text" if cell_color else "auto"},
              "inspect": False, "filterable": False}
    p = {"type": "table", "title": title, "targets": targets,
         "fieldConfig": field_config(unit, thresholds, overrides=overrides, custom=custom,
                                     color_mode="thresholds"),
         "options": {"showHeader": True, "cellHeight": "sm",
                     "footer": {"show": False, "reducer": ["sum"], "countRows": False, "fields": ""},
                     "sortBy": sort or []},
         "transformations": transformations}
    return describe(p, description, optional)


def state_timeline(title, targets, description, mappings, optional=False):
    p = {"type": "state-timeline", "title": title, "targets": targets,
         "fieldConfig": field_config("short", steps(("red", None), ("green", 1)), mappings=mappings,
                                     color_mode="thresholds",
                                     custom={"fillOpacity": 80, "lineWidth": 0, "hideFrom": {
                                         "legend": False, "tooltip": False, "viz": False}}),
         "options": {"mergeValues": True, "showValue": "never", "alignValue": "left", "rowHeight": 0.85,
                     "legend": {"displayMode": "list", "placement": "bottom", "showLegend": False},
                     "tooltip": {"mode": "single", "sort": "none"}}}
    return describe(p, description, optional)


def ds_var():
    return {"current": {}, "hide": 0, "includeAll": False, "label": "Data source", "multi": False,
            "name": "datasource", "options": [], "query": "prometheus", "refresh": 1, "regex": "",
            "skipUrlSync": False, "type": "datasource"}


def query_var(name, label, query, multi=True, include_all=True, sort=1):
    v = {"datasource": DS, "definition": query, "hide": 0, "includeAll": include_all, "label": label,
         "multi": multi, "name": name, "options": [],
         "query": {"query": query, "refId": "StandardVariableQuery"}, "refresh": 2, "regex": "",
         "skipUrlSync": False, "sort": sort, "type": "query"}
    if include_all:
        v["allValue"] = ".*"
        v["current"] = {"selected": True, "text": ["All"], "value": ["$__all"]}
    else:
        v["current"] = {}
    return v


def dashboard(uid, title, description, layout, variables, tags=("defender",), refresh="1m", time_from="now-24h"):
    return {
        "__requires": [
            {"type": "grafana", "id": "grafana", "name": "Grafana", "version": "10.4.0"},
            {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
        ],
        "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                                  "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
                                  "name": "Annotations & Alerts", "type": "dashboard"}]},
        "description": description,
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": [{"asDropdown": False, "icon": "external link", "includeVars": False, "keepTime": True,
                   "tags": ["defender"], "targetBlank": False, "title": "Defender dashboards",
                   "tooltip": "", "type": "dashboards", "url": ""}],
        "panels": layout.panels,
        "refresh": refresh,
        "schemaVersion": 39,
        "tags": list(tags),
        "templating": {"list": variables},
        "time": {"from": time_from, "to": "now"},
        "timepicker": {},
        "timezone": "",
        "title": title,
        "uid": uid,
        "version": 1,
        "weekStart": "",
    }


T = 'tenant=~"$tenant"'


def overview():
    L = Layout()
    tenant_link = {"title": "Tenant details", "targetBlank": False,
                   "url": "/d/defender-tenant/defender-tenant?var-tenant=${__value.raw}"
                          "&${datasource:queryparam}&${__url_time_range}"}
    L.row("Summary")
    L.add(stat("Tenants down", [target(f"sum(1 - defender_up{{{T}}})")],
               "Tenants whose exporter health (defender_up) is 0: no token, or a collector failing. "
               "See the Defender exporter dashboard.",
               thresholds=steps(("green", None), ("red", 1)), graph=False), 3, 4)
    L.add(stat("Unresolved High alerts",
               [target(f'sum(tenant_severity:defender_alerts_unresolved:sum{{{T},severity="High"}})')],
               "High-severity alerts whose status is not Resolved.",
               thresholds=steps(("green", None), ("red", 1))), 3, 4)
    L.add(stat("New High alerts (15m)",
               [target(f"sum(tenant:defender_alerts_high_new:sum{{{T}}} - "
                       f"min_over_time(tenant:defender_alerts_high_new:sum{{{T}}}[15m]))")],
               "Net increase of High-severity alerts in status New over the last 15 minutes "
               "(what DefenderHighSeverityAlertsNew pages on).",
               thresholds=steps(("green", None), ("red", 1))), 3, 4)
    L.add(stat("Unresolved High incidents",
               [target(f'sum(tenant_severity:defender_incidents_unresolved:sum{{{T},severity="High"}})')],
               "High-severity incidents that are neither Resolved nor Redirected.",
               thresholds=steps(("green", None), ("red", 1))), 3, 4)
    L.add(stat("Machines", [target(f"sum(tenant:defender_machines:sum{{{T}}})")],
               "Machines known to Defender for Endpoint (every onboarding status).",
               thresholds=steps(("blue", None)), color_mode="value"), 3, 4)
    L.add(stat("Isolated machines", [target(f"sum(defender_machines_isolated{{{T}}})")],
               "Machines whose latest isolation action is a successful Isolate.",
               thresholds=steps(("green", None), ("orange", 1))), 3, 4)
    L.add(stat("Exposure score", [target(f"max by (tenant) (defender_exposure_score{{{T}}})", "{{tenant}}")],
               "Organisation exposure score (0-100, lower is better). Microsoft's bands: low 0-29, "
               "medium 30-69, high 70-100.",
               thresholds=steps(("green", None), ("orange", 30), ("red", 70)), min_=0, max_=100, decimals=1),
          3, 4)
    L.add(stat("Secure score for devices",
               [target(f"max by (tenant) (defender_configuration_score{{{T}}})", "{{tenant}}")],
               "Microsoft Secure Score for Devices (configuration score): higher is better.",
               thresholds=steps(("blue", None)), color_mode="value", decimals=0), 3, 4)
    L.add(table("Tenants", [
        target(f"max by (tenant) (defender_up{{{T}}})", ref="A", instant=True, fmt="table"),
        target(f"sum by (tenant) (tenant:defender_machines:sum{{{T}}})", ref="B", instant=True, fmt="table"),
        target(f'sum by (tenant) (tenant_severity:defender_alerts_unresolved:sum{{{T},severity="High"}})',
               ref="C", instant=True, fmt="table"),
        target(f'sum by (tenant) (tenant_severity:defender_incidents_unresolved:sum{{{T},severity="High"}})',
               ref="D", instant=True, fmt="table"),
        target(f"max by (tenant) (defender_exposure_score{{{T}}})", ref="E", instant=True, fmt="table"),
        target(f"max by (tenant) (tenant:defender_av_signature_up_to_date:ratio{{{T}}})", ref="F",
               instant=True, fmt="table"),
    ], "One row per tenant. Click a tenant for its detail dashboard.",
        rename={"tenant": "Tenant", "Value #A": "Exporter up", "Value #B": "Machines",
                "Value #C": "Unresolved High alerts", "Value #D": "Unresolved High incidents",
                "Value #E": "Exposure score", "Value #F": "AV signatures up to date"},
        unit_overrides={
            "Exporter up": {"mappings": UP_MAPPINGS, "custom.cellOptions": {"type": "color-background"}},
            "Exposure score": {"decimals": 1, "thresholds": steps(("green", None), ("orange", 30), ("red", 70)),
                               "custom.cellOptions": {"type": "color-text"}},
            "AV signatures up to date": {"unit": "percentunit",
                                         "thresholds": steps(("red", None), ("orange", 0.9), ("green", 0.95)),
                                         "custom.cellOptions": {"type": "color-text"}},
            "Unresolved High alerts": {"thresholds": steps(("green", None), ("red", 1)),
                                       "custom.cellOptions": {"type": "color-text"}},
        },
        links={"Tenant": tenant_link}), 24, 6)

    L.row("Alerts and incidents")
    L.add(timeseries("Unresolved alerts by severity",
                     [target(f"sum by (severity) (tenant_severity:defender_alerts_unresolved:sum{{{T}}})",
                             "{{severity}}")],
                     "Alerts whose status is not Resolved, stacked by severity.", stack=True,
                     overrides=color_overrides(SEVERITY_COLORS), fill=40), 12, 8)
    L.add(timeseries("Unresolved incidents by severity",
                     [target(f"sum by (severity) (tenant_severity:defender_incidents_unresolved:sum{{{T}}})",
                             "{{severity}}")],
                     "Incidents neither Resolved nor Redirected, stacked by severity.", stack=True,
                     overrides=color_overrides(SEVERITY_COLORS), fill=40), 12, 8)
    L.add(timeseries("New High alerts (net increase over 15m)",
                     [target(f"tenant:defender_alerts_high_new:sum{{{T}}} - "
                             f"min_over_time(tenant:defender_alerts_high_new:sum{{{T}}}[15m])", "{{tenant}}")],
                     "By how much the number of High-severity alerts in status New rose over the last "
                     "15 minutes; above 0 is what DefenderHighSeverityAlertsNew pages on.", bars=True,
                     thresholds=steps(("green", None), ("red", 1))), 8, 8)
    L.add(bargauge("Alerts by status",
                   [target(f"sum by (status) (tenant_severity_status:defender_alerts:sum{{{T}}})", "{{status}}",
                           instant=True)],
                   "Alerts created within the lookback window plus every unresolved alert, by status.",
                   overrides=color_overrides(STATUS_COLORS), color_mode="palette-classic"), 8, 8)
    L.add(table("Oldest unresolved alert",
                [target(f"min by (tenant, severity) (defender_alerts_oldest_unresolved_timestamp_seconds{{{T}}}) "
                        f"* 1000", instant=True, fmt="table")],
                "Creation time of the oldest alert that is not Resolved, per tenant and severity.",
                rename={"tenant": "Tenant", "severity": "Severity", "Value": "Oldest unresolved"},
                unit_overrides={"Oldest unresolved": {"unit": "dateTimeFromNow"}},
                sort=[{"displayName": "Oldest unresolved", "desc": False}]), 8, 8)

    L.row("Machines")
    L.add(piechart("Machines by health status",
                   [target(f"sum by (health_status) (tenant_health_status:defender_machines:sum{{{T}}})",
                           "{{health_status}}", instant=True)],
                   "Sensor health of the machines as Defender reports it.",
                   overrides=color_overrides(HEALTH_COLORS)), 8, 8)
    L.add(bargauge("Machines by exposure level",
                   [target(f"sum by (exposure_level) (tenant_exposure_level:defender_machines:sum{{{T}}})",
                           "{{exposure_level}}", instant=True)],
                   "Machines per exposure level (Defender Vulnerability Management).",
                   overrides=color_overrides(EXPOSURE_COLORS), color_mode="palette-classic"), 8, 8)
    L.add(bargauge("Machines by risk score",
                   [target(f"sum by (risk_score) (tenant_risk_score:defender_machines:sum{{{T}}})",
                           "{{risk_score}}", instant=True)],
                   "Machines per risk score (from the alerts on each machine).",
                   overrides=color_overrides(RISK_COLORS), color_mode="palette-classic"), 8, 8)
    L.add(timeseries("Machines by health status",
                     [target(f"sum by (health_status) (tenant_health_status:defender_machines:sum{{{T}}})",
                             "{{health_status}}")],
                     "Machines per sensor health status over time.", stack=True,
                     overrides=color_overrides(HEALTH_COLORS), fill=40), 8, 8)
    L.add(timeseries("Stale machines (share)",
                     [target(f"tenant_threshold:defender_machines_stale:ratio{{{T}}}",
                             "{{tenant}} not seen for {{threshold}}")],
                     "Share of machines whose lastSeen is older than each configured stale_after threshold. "
                     "DefenderMachinesStale fires above 30% for 1d.", unit="percentunit", max_=1,
                     thresholds=steps(("green", None), ("red", 0.3)), threshold_style="dashed"), 8, 8)
    L.add(timeseries("Onboarded machines with an unhealthy sensor (share)",
                     [target(f"tenant:defender_machines_sensor_unhealthy:ratio{{{T}}}", "{{tenant}}")],
                     "Share of onboarded machines in ImpairedCommunication or NoSensorData: EDR blind spots. "
                     "DefenderMachinesSensorUnhealthy fires above 10%.", unit="percentunit",
                     thresholds=steps(("green", None), ("red", 0.1)), threshold_style="dashed"), 8, 8)

    L.row("Exposure and vulnerabilities")
    L.add(timeseries("Exposure score",
                     [target(f"max by (tenant) (defender_exposure_score{{{T}}})", "{{tenant}}")],
                     "Exposure score over time (0-100, lower is better).", max_=100,
                     thresholds=steps(("green", None), ("orange", 30), ("red", 70)),
                     threshold_style="line+area", fill=0), 8, 8)
    L.add(timeseries("Secure score for devices",
                     [target(f"max by (tenant) (defender_configuration_score{{{T}}})", "{{tenant}}")],
                     "Microsoft Secure Score for Devices over time (higher is better).", min_=None), 8, 8)
    L.add(bargauge("Vulnerabilities by severity",
                   [target(f"sum by (severity) (defender_vulnerabilities{{{T}}})", "{{severity}}",
                           instant=True)],
                   "CVEs that affect at least one machine, by severity.",
                   overrides=color_overrides(SEVERITY_COLORS), color_mode="palette-classic"), 8, 8)
    L.add(stat("Vulnerabilities with a public exploit",
               [target(f'sum(defender_vulnerabilities{{{T},public_exploit="true"}})')],
               "CVEs affecting at least one machine for which a public exploit is known.",
               thresholds=steps(("green", None), ("orange", 1))), 6, 4)
    L.add(stat("Critical: exposed machines",
               [target(f'sum(defender_vulnerability_exposed_machines{{{T},severity="Critical"}})')],
               "Sum over Critical CVEs of the machines exposed to each (a machine counts once per CVE).",
               thresholds=steps(("green", None), ("red", 1))), 6, 4)
    L.add(bargauge("Exposed machines by CVE severity",
                   [target(f"sum by (severity) (defender_vulnerability_exposed_machines{{{T}}})", "{{severity}}",
                           instant=True)],
                   "Sum over CVEs of each severity of the machines exposed to them.",
                   overrides=color_overrides(SEVERITY_COLORS), color_mode="palette-classic"), 12, 4)

    L.row("Antivirus and response")
    L.add(gauge("AV signatures up to date",
                [target(f"max by (tenant) (tenant:defender_av_signature_up_to_date:ratio{{{T}}})", "{{tenant}}")],
                "Share of machines whose Defender Antivirus security intelligence is up to date.",
                thresholds=steps(("red", None), ("orange", 0.9), ("green", 0.95))), 8, 8)
    L.add(piechart("Antivirus mode",
                   [target(f"sum by (av_mode) (tenant_av_mode:defender_av_machines:sum{{{T}}})", "{{av_mode}}",
                           instant=True)],
                   "Microsoft Defender Antivirus mode of the machines (device AV info).",
                   overrides=color_overrides({"Active": "green", "Passive": "blue", "Disabled": "red",
                                              "EDRBlocked": "purple", "PassiveAudit": "yellow",
                                              "Other": "text"})), 8, 8)
    L.add(timeseries("Isolated machines",
                     [target(f"max by (tenant) (defender_machines_isolated{{{T}}})", "{{tenant}}")],
                     "Machines whose latest isolation action is a successful Isolate.",
                     thresholds=steps(("green", None), ("orange", 1))), 8, 8)
    return dashboard("defender-overview", "Defender / Overview",
                     "Security posture of Microsoft Defender for Endpoint / XDR tenants (defender_exporter).",
                     L, [ds_var(), query_var("tenant", "Tenant", "label_values(defender_up, tenant)")])


def tenant():
    L = Layout()
    t = 'tenant="$tenant"'
    mg = 'tenant="$tenant",device_group=~"$device_group"'
    L.row("Summary")
    L.add(stat("Exporter", [target(f"max(defender_up{{{t}}})")],
               "defender_up: 1 when a token could be had and every collector's latest refresh succeeded.",
               thresholds=steps(("red", None), ("green", 1)), mappings=UP_MAPPINGS, graph=False, no_value=None),
          3, 4)
    L.add(stat("Data age", [target(f"max(time() - defender_collector_last_success_timestamp_seconds{{{t}}})")],
               "Age of the oldest collector snapshot of this tenant.", unit="s",
               thresholds=steps(("green", None), ("orange", 3600), ("red", 10800)), graph=False, no_value=None), 3, 4)
    L.add(stat("Machines", [target(f"sum(tenant:defender_machines:sum{{{t}}})")],
               "Machines known to Defender for Endpoint.", thresholds=steps(("blue", None)), color_mode="value"),
          3, 4)
    L.add(stat("Unresolved alerts", [target(f"sum(tenant_severity:defender_alerts_unresolved:sum{{{t}}})")],
               "Alerts whose status is not Resolved.", thresholds=steps(("green", None), ("orange", 1))), 3, 4)
    L.add(stat("Unresolved incidents",
               [target(f"sum(tenant_severity:defender_incidents_unresolved:sum{{{t}}})")],
               "Incidents neither Resolved nor Redirected.", thresholds=steps(("green", None), ("orange", 1))),
          3, 4)
    L.add(stat("Exposure score", [target(f"max(defender_exposure_score{{{t}}})")],
               "Exposure score (0-100, lower is better).",
               thresholds=steps(("green", None), ("orange", 30), ("red", 70)), decimals=1, no_value=None), 3, 4)
    L.add(stat("Secure score for devices", [target(f"max(defender_configuration_score{{{t}}})")],
               "Microsoft Secure Score for Devices.", thresholds=steps(("blue", None)), color_mode="value",
               no_value=None), 3, 4)
    L.add(stat("Isolated machines", [target(f"max(defender_machines_isolated{{{t}}})")],
               "Machines whose latest isolation action is a successful Isolate.",
               thresholds=steps(("green", None), ("orange", 1))), 3, 4)

    L.row("Alerts")
    L.add(timeseries("Alerts by status",
                     [target(f"sum by (status) (tenant_severity_status:defender_alerts:sum{{{t}}})", "{{status}}")],
                     "Alerts created within the lookback window plus every unresolved alert, by status.",
                     stack=True, overrides=color_overrides(STATUS_COLORS), fill=40), 12, 8)
    L.add(timeseries("Unresolved alerts by severity",
                     [target(f"sum by (severity) (tenant_severity:defender_alerts_unresolved:sum{{{t}}})",
                             "{{severity}}")],
                     "Alerts whose status is not Resolved.", stack=True,
                     overrides=color_overrides(SEVERITY_COLORS), fill=40), 12, 8)
    L.add(table("Unresolved alerts by category",
                [target(f'sum by (category, severity) (defender_alerts{{{t},status!="Resolved"}})', instant=True,
                        fmt="table")],
                "Unresolved alerts per category and severity.",
                rename={"category": "Category", "severity": "Severity", "Value": "Alerts"},
                sort=[{"displayName": "Alerts", "desc": True}]), 8, 9)
    L.add(bargauge("Unresolved alerts by detection source",
                   [target(f'sum by (detection_source) (defender_alerts{{{t},status!="Resolved"}})',
                           "{{detection_source}}", instant=True)],
                   "Which detection technology raised the unresolved alerts.", color_mode="palette-classic"),
          8, 9)
    L.add(table("Resolved alerts by classification",
                [target(f"sum by (classification, determination) (defender_alerts_classified{{{t}}})",
                        instant=True, fmt="table")],
                "How resolved alerts were classified: a high share of FalsePositive points at detections "
                "to tune.",
                rename={"classification": "Classification", "determination": "Determination", "Value": "Alerts"},
                sort=[{"displayName": "Alerts", "desc": True}]), 8, 9)
    L.add(table("Oldest unresolved alert by severity",
                [target(f"min by (severity) (defender_alerts_oldest_unresolved_timestamp_seconds{{{t}}}) * 1000",
                        instant=True, fmt="table")],
                "Creation time of the oldest alert that is not Resolved.",
                rename={"severity": "Severity", "Value": "Oldest unresolved"},
                unit_overrides={"Oldest unresolved": {"unit": "dateTimeFromNow"}}), 12, 6)
    L.add(table("Oldest unresolved incident by severity",
                [target(f"min by (severity) (defender_incidents_oldest_unresolved_timestamp_seconds{{{t}}}) "
                        f"* 1000", instant=True, fmt="table")],
                "Creation time of the oldest incident neither Resolved nor Redirected.",
                rename={"severity": "Severity", "Value": "Oldest unresolved"},
                unit_overrides={"Oldest unresolved": {"unit": "dateTimeFromNow"}}), 12, 6)

    L.row("Incidents")
    L.add(timeseries("Incidents by status",
                     [target(f"sum by (status) (tenant_severity_status:defender_incidents:sum{{{t}}})",
                             "{{status}}")],
                     "Incidents created within the lookback window plus every unresolved incident.",
                     stack=True, overrides=color_overrides(STATUS_COLORS), fill=40), 8, 8)
    L.add(timeseries("Unresolved incidents by severity",
                     [target(f"sum by (severity) (tenant_severity:defender_incidents_unresolved:sum{{{t}}})",
                             "{{severity}}")],
                     "Incidents neither Resolved nor Redirected.", stack=True,
                     overrides=color_overrides(SEVERITY_COLORS), fill=40), 8, 8)
    L.add(table("Resolved incidents by classification",
                [target(f'sum by (classification, determination) (defender_incidents{{{t},status="Resolved"}})',
                        instant=True, fmt="table")],
                "How resolved incidents were classified.",
                rename={"classification": "Classification", "determination": "Determination",
                        "Value": "Incidents"},
                sort=[{"displayName": "Incidents", "desc": True}]), 8, 8)

    L.row("Machines (filtered by device group)")
    L.add(piechart("Health status",
                   [target(f"sum by (health_status) (defender_machines{{{mg}}})", "{{health_status}}",
                           instant=True)],
                   "Sensor health of the machines in the selected device groups.",
                   overrides=color_overrides(HEALTH_COLORS)), 8, 8)
    L.add(piechart("OS platform",
                   [target(f"sum by (os_platform) (defender_machines{{{mg}}})", "{{os_platform}}", instant=True)],
                   "Operating system platform of the machines in the selected device groups."), 8, 8)
    L.add(bargauge("Onboarding status",
                   [target(f"sum by (onboarding_status) (defender_machines{{{mg}}})", "{{onboarding_status}}",
                           instant=True)],
                   "CanBeOnboarded machines were discovered on the network but run no sensor.",
                   overrides=color_overrides({"Onboarded": "green", "CanBeOnboarded": "orange",
                                              "Unsupported": "text", "InsufficientInfo": "blue"}),
                   color_mode="palette-classic"), 8, 8)
    L.add(bargauge("Exposure level",
                   [target(f"sum by (exposure_level) (defender_machines{{{mg}}})", "{{exposure_level}}",
                           instant=True)],
                   "Machines per exposure level.", overrides=color_overrides(EXPOSURE_COLORS),
                   color_mode="palette-classic"), 8, 7)
    L.add(bargauge("Risk score",
                   [target(f"sum by (risk_score) (defender_machines{{{mg}}})", "{{risk_score}}", instant=True)],
                   "Machines per risk score.", overrides=color_overrides(RISK_COLORS),
                   color_mode="palette-classic"), 8, 7)
    L.add(bargauge("Defender AV status",
                   [target(f"sum by (av_status) (defender_machines{{{mg}}})", "{{av_status}}", instant=True)],
                   "Antivirus status as the machine listing reports it.",
                   overrides=color_overrides(AV_STATUS_COLORS), color_mode="palette-classic"), 8, 7)
    L.add(table("Device groups", [
        target(f"sum by (device_group) (defender_machines{{{mg}}})", ref="A", instant=True, fmt="table"),
        target(f'sum by (device_group) (defender_machines{{{mg},health_status="Active"}})', ref="B", instant=True,
               fmt="table"),
        target(f'sum by (device_group) (defender_machines{{{mg},exposure_level="High"}})', ref="C", instant=True,
               fmt="table"),
        target(f"max by (device_group) (defender_exposure_score_by_device_group{{{mg}}})", ref="D", instant=True,
               fmt="table"),
    ], "Per device group: machines, active machines, highly exposed machines and the group's exposure score.",
        rename={"device_group": "Device group", "Value #A": "Machines", "Value #B": "Active",
                "Value #C": "High exposure", "Value #D": "Exposure score"},
        unit_overrides={"Exposure score": {"decimals": 1,
                                           "thresholds": steps(("green", None), ("orange", 30), ("red", 70)),
                                           "custom.cellOptions": {"type": "color-text"}}},
        sort=[{"displayName": "Machines", "desc": True}]), 12, 8)
    L.add(bargauge("Stale machines",
                   [target(f"max by (threshold) (defender_machines_stale{{{t}}})", "not seen for {{threshold}}",
                           instant=True)],
                   "Machines whose lastSeen is older than each stale_after threshold (whole tenant, not "
                   "filtered by device group).", thresholds=steps(("orange", None))), 12, 8)
    L.add(timeseries("Machines by health status",
                     [target(f"sum by (health_status) (defender_machines{{{mg}}})", "{{health_status}}")],
                     "Sensor health over time, selected device groups.", stack=True,
                     overrides=color_overrides(HEALTH_COLORS), fill=40), 24, 8)

    L.row("Vulnerabilities and recommendations")
    L.add(bargauge("Exposure score by device group",
                   [target(f"max by (device_group) (defender_exposure_score_by_device_group{{{mg}}})",
                           "{{device_group}}", instant=True)],
                   "Exposure score of each device group (0-100, lower is better).", max_=100,
                   thresholds=steps(("green", None), ("orange", 30), ("red", 70))), 8, 8)
    L.add(table("Vulnerabilities",
                [target(f"sum by (severity, public_exploit) (defender_vulnerabilities{{{t}}})", instant=True,
                        fmt="table")],
                "CVEs that affect at least one machine, by severity and whether a public exploit exists.",
                rename={"severity": "Severity", "public_exploit": "Public exploit", "Value": "CVEs"},
                sort=[{"displayName": "CVEs", "desc": True}]), 8, 8)
    L.add(bargauge("Exposed machines by CVE severity",
                   [target(f"sum by (severity) (defender_vulnerability_exposed_machines{{{t}}})", "{{severity}}",
                           instant=True)],
                   "Sum over the CVEs of each severity of the machines exposed to them.",
                   overrides=color_overrides(SEVERITY_COLORS), color_mode="palette-classic"), 8, 8)
    L.add(table("Security recommendations",
                [target(f"sum by (category, remediation_type, status) (defender_recommendations{{{t}}})",
                        instant=True, fmt="table")],
                "Security recommendations by category, remediation type and status.",
                rename={"category": "Category", "remediation_type": "Remediation", "status": "Status",
                        "Value": "Recommendations"},
                sort=[{"displayName": "Recommendations", "desc": True}]), 12, 8)
    L.add(bargauge("Exposed machines by recommendation category",
                   [target(f"sum by (category) (defender_recommendation_exposed_machines{{{t}}})", "{{category}}",
                           instant=True)],
                   "Sum over the recommendations of each category of the machines they apply to.",
                   color_mode="palette-classic"), 12, 8)

    L.row("Antivirus")
    for i, (col, title) in enumerate([("signature_up_to_date", "Signatures up to date"),
                                      ("engine_up_to_date", "Engine up to date"),
                                      ("platform_up_to_date", "Platform up to date")]):
        L.add(stat(title,
                   [target(f'(sum(defender_av_machines{{{t},{col}="True"}}) or sum(defender_av_machines{{{t}}}) * 0)'
                           f" / sum(defender_av_machines{{{t}}})")],
                   f"Share of machines whose Defender Antivirus {col.split('_')[0]} is up to date.",
                   unit="percentunit", thresholds=steps(("red", None), ("orange", 0.9), ("green", 0.95)),
                   no_value=None, decimals=1), 4, 8)
    L.add(piechart("Antivirus mode",
                   [target(f"sum by (av_mode) (defender_av_machines{{{t}}})", "{{av_mode}}", instant=True)],
                   "Microsoft Defender Antivirus mode.",
                   overrides=color_overrides({"Active": "green", "Passive": "blue", "Disabled": "red",
                                              "EDRBlocked": "purple", "PassiveAudit": "yellow",
                                              "Other": "text"})), 6, 8)
    L.add(table("Latest scan results",
                [target(f"sum by (scan_type, result) (defender_av_scan_results{{{t}}})", instant=True,
                        fmt="table")],
                "Result of each machine's latest quick and full scan (empty: no scan reported).",
                rename={"scan_type": "Scan", "result": "Result", "Value": "Machines"}), 6, 8)

    L.row("Response")
    L.add(table("Machine actions",
                [target(f"sum by (type, status) (defender_machine_actions{{{t}}})", instant=True, fmt="table")],
                "Response actions (isolate, scan, investigation package...) created within the lookback window.",
                rename={"type": "Action", "status": "Status", "Value": "Actions"},
                sort=[{"displayName": "Actions", "desc": True}]), 8, 8)
    L.add(table("Custom indicators",
                [target(f"sum by (indicator_type, action, severity) (defender_indicators{{{t}}})", instant=True,
                        fmt="table")],
                "Custom indicators of compromise. Needs the indicators collector (off by default).",
                rename={"indicator_type": "Type", "action": "Action", "severity": "Severity",
                        "Value": "Indicators"}), 8, 8)
    L.add(bargauge("Automated investigations by state",
                   [target(f"sum by (state) (defender_investigations{{{t}}})", "{{state}}", instant=True)],
                   "Automated investigations within the lookback window. Needs the investigations collector "
                   "(off by default).", color_mode="palette-classic"), 8, 8)
    return dashboard("defender-tenant", "Defender / Tenant",
                     "One Microsoft Defender tenant in detail (defender_exporter).", L,
                     [ds_var(), query_var("tenant", "Tenant", "label_values(defender_up, tenant)", multi=False,
                                          include_all=False),
                      query_var("device_group", "Device group",
                                'label_values(defender_machines{tenant="$tenant"}, device_group)')])


def exporter():
    L = Layout()
    c = 'tenant=~"$tenant",collector=~"$collector"'
    L.row("Health")
    L.add(stat("Tenants down", [target(f"sum(1 - defender_up{{{T}}})")],
               "Tenants with defender_up = 0 (no token, or a collector failing).",
               thresholds=steps(("green", None), ("red", 1)), graph=False), 4, 4)
    L.add(stat("Failing collectors", [target(f"sum(1 - defender_collector_success{{{c}}})")],
               "(tenant, collector) pairs whose latest refresh failed.",
               thresholds=steps(("green", None), ("orange", 1)), graph=False), 4, 4)
    L.add(stat("Oldest data", [target(f"max(time() - defender_collector_last_success_timestamp_seconds{{{c}}})")],
               "Age of the oldest collector snapshot. DefenderDataStale fires when a collector has missed three "
               "refreshes of its own interval (and at least an hour); see Refresh age below.", unit="s",
               thresholds=steps(("green", None), ("orange", 3600), ("red", 10800)), graph=False, no_value=None),
          4, 4)
    L.add(stat("Configuration reload", [target("min(defender_exporter_config_last_reload_successful)")],
               "Whether the latest configuration reload succeeded.", mappings=OK_MAPPINGS,
               thresholds=steps(("red", None), ("green", 1)), graph=False, no_value=None), 4, 4)
    L.add(stat("Last successful reload",
               [target("max(defender_exporter_config_last_reload_success_timestamp_seconds) * 1000")],
               "When the configuration was last loaded successfully.", unit="dateTimeFromNow",
               thresholds=steps(("blue", None)), graph=False, color_mode="value", no_value=None), 4, 4)
    L.add(stat("API requests", [target(f"sum(tenant_api_code:defender_api_requests:rate5m{{{T}}})")],
               "Requests per second to Defender, Graph and Entra (5m rate).", unit="reqps",
               thresholds=steps(("blue", None)), color_mode="value", no_value=None, decimals=2), 4, 4)
    L.add(state_timeline("Tenant up", [target(f"max by (tenant) (defender_up{{{T}}})", "{{tenant}}")],
                         "defender_up per tenant over time.", UP_MAPPINGS), 12, 6)
    L.add(table("Exporter build", [target("defender_exporter_build_info", instant=True, fmt="table")],
                "Version of each exporter instance.",
                exclude=("Time", "__name__", "Value", "tags", "goos", "goarch")), 12, 6)

    L.row("Collectors")
    L.add(state_timeline("Collector success",
                         [target(f"max by (tenant, collector) (defender_collector_success{{{c}}})",
                                 "{{tenant}} / {{collector}}")],
                         "1 (OK) when the latest background refresh of the collector succeeded.", OK_MAPPINGS),
          24, 8)
    L.add(timeseries("Refresh age, in intervals",
                     [target(f"(time() - max by (tenant, collector) "
                             f"(defender_collector_last_success_timestamp_seconds{{{c}}})) "
                             f"/ max by (tenant, collector) (defender_collector_interval_seconds{{{c}}})",
                             "{{tenant}} / {{collector}}")],
                     "Time since the latest successful refresh, counted in the collector's own interval "
                     "(defender_collector_interval_seconds). It saws between 0 and about 1 while refreshes "
                     "succeed; a line that keeps climbing is a collector that stopped succeeding. "
                     "DefenderDataStale fires above 3 (and an hour).", unit="none",
                     thresholds=steps(("green", None), ("red", 3)), threshold_style="dashed"), 12, 8)
    L.add(timeseries("Refresh duration",
                     [target(f"max by (tenant, collector) (defender_collector_duration_seconds{{{c}}})",
                             "{{tenant}} / {{collector}}")],
                     "Duration of the latest background refresh.", unit="s"), 12, 8)

    L.row("Defender API")
    L.add(timeseries("API requests by code",
                     [target(f"sum by (api, code) (tenant_api_code:defender_api_requests:rate5m{{{T}}})",
                             "{{api}} {{code}}")],
                     "Requests per second by API audience (mde, xdr, graph, entra = token endpoint) and HTTP "
                     "status (\"error\": no answer).", unit="reqps", stack=True, fill=30), 12, 8)
    L.add(timeseries("API error ratio",
                     [target(f'(sum by (tenant, api) (tenant_api_code:defender_api_requests:rate5m{{{T},code!~"2.."}})'
                             f" or sum by (tenant, api) (tenant_api_code:defender_api_requests:rate5m{{{T}}}) * 0)"
                             f" / sum by (tenant, api) (tenant_api_code:defender_api_requests:rate5m{{{T}}})",
                             "{{tenant}} {{api}}")],
                     "Share of requests that did not get a 2xx answer.", unit="percentunit",
                     thresholds=steps(("green", None), ("red", 0.05)), threshold_style="dashed"), 12, 8)
    L.add(bargauge("Requests in the last hour",
                   [target(f'sum by (tenant, endpoint) (increase(defender_api_requests_total{{{T},api!="entra"}}[1h]))',
                           "{{tenant}} {{endpoint}}", instant=True)],
                   "Calls per endpoint over the last hour. Defender allows 1,500 calls per hour per tenant and "
                   "API family (mde, device AV info, incidents, hunting).",
                   thresholds=steps(("green", None), ("orange", 1000), ("red", 1500)), max_=1500), 12, 8)
    L.add(timeseries("Request latency (p95)",
                     [target(f"histogram_quantile(0.95, sum by (le, api) "
                             f"(rate(defender_api_request_duration_seconds_bucket{{{T}}}[$__rate_interval])))",
                             "{{api}} p95"),
                      target(f"histogram_quantile(0.5, sum by (le, api) "
                             f"(rate(defender_api_request_duration_seconds_bucket{{{T}}}[$__rate_interval])))",
                             "{{api}} p50", ref="B")],
                     "Request duration by API, including reading the answer.", unit="s"), 12, 8)
    L.add(timeseries("Throttled answers (429)",
                     [target(f"sum by (tenant, api) (increase(defender_api_throttled_total{{{T}}}[$__rate_interval]))"
                             f' or sum by (tenant, api) (increase(defender_api_requests_total{{{T},api!="entra"}}'
                             f"[$__rate_interval])) * 0", "{{tenant}} {{api}}")],
                     "HTTP 429 answers. The exporter honours Retry-After; sustained throttling fires "
                     "DefenderAPIThrottled.", thresholds=steps(("green", None), ("red", 1)), bars=True), 8, 8)
    L.add(timeseries("Retries",
                     [target(f"sum by (tenant, api) (increase(defender_api_retries_total{{{T}}}[$__rate_interval]))"
                             f' or sum by (tenant, api) (increase(defender_api_requests_total{{{T},api!="entra"}}'
                             f"[$__rate_interval])) * 0", "{{tenant}} {{api}}")],
                     "Requests sent again after a 5xx, a 429, a 401 or a network error.", bars=True), 8, 8)
    L.add(timeseries("Token request failures",
                     [target(f'sum by (tenant) (increase(defender_api_requests_total{{{T},api="entra",code!~"2.."}}'
                             f"[$__rate_interval])) or sum by (tenant) "
                             f'(increase(defender_api_requests_total{{{T},api="entra"}}[$__rate_interval])) * 0',
                             "{{tenant}}")],
                     "Calls to Entra ID (token endpoint, OpenID discovery) without a 2xx answer: a revoked secret, "
                     "an expired certificate or missing consent. See API requests by code for the status.",
                     thresholds=steps(("green", None), ("red", 1)), bars=True), 8, 8)

    L.row("Credentials")
    L.add(table("Client certificate expiry",
                [target(f"max by (tenant) (defender_credential_certificate_expiry_timestamp_seconds{{{T}}}) * 1000",
                        instant=True, fmt="table", ref="A"),
                 target(f"max by (tenant) (defender_credential_certificate_expiry_timestamp_seconds{{{T}}}) - time()",
                        instant=True, fmt="table", ref="B")],
                "Expiry of the client certificate of tenants that authenticate with one. "
                "DefenderCertificateExpiringSoon warns at 14 days and pages at 3.",
                rename={"tenant": "Tenant", "Value #A": "Expires", "Value #B": "Time left"},
                unit_overrides={"Expires": {"unit": "dateTimeFromNow"},
                                "Time left": {"unit": "s", "custom.cellOptions": {"type": "color-background"},
                                              "thresholds": steps(("red", None), ("orange", 3 * 86400),
                                                                  ("green", 14 * 86400))}},
                optional=True), 24, 5)

    L.row("Hunting queries")
    L.add(state_timeline("Hunting query success",
                         [target(f"max by (tenant, query) (defender_hunting_query_success{{{T}}})",
                                 "{{tenant}} / {{query}}")],
                         "1 (OK) when the latest run of the advanced hunting query succeeded. Only when hunting "
                         "queries are configured.", OK_MAPPINGS, optional=True), 24, 6)
    L.add(timeseries("Hunting query duration",
                     [target(f"max by (tenant, query) (defender_hunting_query_duration_seconds{{{T}}})",
                             "{{tenant}} / {{query}}")],
                     "Duration of the latest run of each hunting query. Only when hunting queries are configured.",
                     unit="s", optional=True), 12, 8)
    L.add(timeseries("Hunting query rows",
                     [target(f"max by (tenant, query) (defender_hunting_query_rows{{{T}}})",
                             "{{tenant}} / {{query}}")],
                     "Rows returned by the latest run of each hunting query. Only when hunting queries are "
                     "configured.", optional=True), 12, 8)

    L.row("Process")
    L.add(timeseries("Resident memory",
                     [target("process_resident_memory_bytes and on (instance, job) defender_exporter_build_info",
                             "{{instance}}")],
                     "Resident memory of each exporter process (absent with --web.disable-exporter-metrics).",
                     unit="bytes"), 8, 7)
    L.add(timeseries("CPU",
                     [target("rate(process_cpu_seconds_total[$__rate_interval]) and on (instance, job) "
                             "defender_exporter_build_info", "{{instance}}")],
                     "CPU used by each exporter process, in cores.", unit="short"), 8, 7)
    L.add(timeseries("Goroutines",
                     [target("go_goroutines and on (instance, job) defender_exporter_build_info", "{{instance}}")],
                     "Goroutines of each exporter process.", unit="short"), 8, 7)
    return dashboard("defender-exporter", "Defender / Exporter",
                     "Health of defender_exporter itself: refreshes, Defender API calls, throttling, credentials.",
                     L, [ds_var(), query_var("tenant", "Tenant", "label_values(defender_up, tenant)"),
                         query_var("collector", "Collector",
                                   'label_values(defender_collector_success{tenant=~"$tenant"}, collector)')],
                     time_from="now-6h")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, fn in [("defender-overview.json", overview), ("defender-tenant.json", tenant),
                     ("defender-exporter.json", exporter)]:
        with open(os.path.join(out, name), "w") as f:
            json.dump(fn(), f, indent=2, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    main()
