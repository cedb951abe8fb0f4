package defendertest

// CloudAppEvents carries, among Microsoft 365 audit records, the response
// actions taken in the Defender portal: an isolation request is the
// ActionType IsolateDevice and a release ReleaseFromIsolation, with the
// device in RawEventData. The fake derives one record per isolation or
// release of /api/machineactions, when it was requested; an audit record
// says that an action was asked for, not whether it succeeded.

var cloudAppEventsColumns = []kColumn{
	{"Timestamp", kDatetime}, {"ActionType", kString}, {"Application", kString},
	{"AccountDisplayName", kString}, {"RawEventData", kDynamic},
}

// auditActionTypes maps machine action types to the audit ActionType.
var auditActionTypes = map[string]string{"Isolate": "IsolateDevice", "Unisolate": "ReleaseFromIsolation"}

func cloudAppEventsTable(d *Dataset) *kTable {
	return streamed(cloudAppEventsColumns, func(yield func([]any) bool) {
		for i := range d.MachineActions {
			a := &d.MachineActions[i]
			action, ok := auditActionTypes[a.Type]
			if !ok {
				continue
			}
			raw := map[string]any{
				"Workload": "MicrosoftDefenderForEndpoint", "DeviceName": a.ComputerDNSName,
				"ActionScope": nullIfEmpty(a.Scope), "ActionComment": nullIfEmpty(a.RequestorComment),
			}
			if !yield([]any{a.CreationDateTimeUTC.Time(), action, "Microsoft 365", a.Requestor, raw}) {
				return
			}
		}
	})
}
