package systemd

import (
	"bufio"
	"bytes"
	"strings"
)

// unitDirectiveSince are unit-file directives newer than systemd 239
// (RHEL 8, the oldest target), with the version that added them. Source:
// the "Added in version N" notes of systemd 257's own man pages
// (systemd.exec(5), systemd.service(5), systemd.unit(5), systemd.timer(5),
// systemd.resource-control(5), systemd.kill(5)) as Debian 13 ships them.
// Directives a page annotates together share the note's version, except
// where the NEWS entry of the release that added each one says otherwise:
// StateDirectory=,
// CacheDirectory=, LogsDirectory=, ConfigurationDirectory= (235; the page
// files them under RuntimeDirectory=, 211), LoadCredentialEncrypted= and
// SetCredentialEncrypted= (250, with systemd-creds), SocketBindDeny= (249,
// beside SocketBindAllow=), TimeoutStopFailureMode= (246) and
// ManagedOOMMemoryPressure= (247). The sandboxing directives wharf itself
// writes are in directiveSince (systemd.go) and are consulted too.
var unitDirectiveSince = map[string]int{
	// systemd.exec(5)
	"LogRateLimitIntervalSec": 240, "LogRateLimitBurst": 240,
	"NetworkNamespacePath": 242,
	"NUMAPolicy":           243, "NUMAMask": 243,
	"LogNamespace":   245,
	"CoredumpFilter": 246, "RootHash": 246, "RootHashSignature": 246, "RootVerity": 246,
	"LoadCredential": 247, "SetCredential": 247, "MountImages": 247, "RootImageOptions": 247,
	"ExtensionImages": 248, "IPCNamespacePath": 248,
	"LoadCredentialEncrypted": 250, "SetCredentialEncrypted": 250, "ExecSearchPath": 250,
	"ExtensionDirectories": 251,
	"LogFilterPatterns":    253,
	"ImportCredential":     254, "MemoryKSM": 254, "RootEphemeral": 254, "RootImagePolicy": 254,
	"MountImagePolicy": 254, "ExtensionImagePolicy": 254,
	"SetLoginEnvironment": 255,
	"BindLogSockets":      257, "PrivatePIDs": 257,
	// systemd.service(5)
	"ExecCondition": 243, "OOMPolicy": 243, "TimeoutAbortSec": 243,
	"TimeoutStartFailureMode": 246, "TimeoutStopFailureMode": 246,
	"ExitType": 250, "RuntimeRandomizedExtraSec": 250,
	"OpenFile": 253, "ReloadSignal": 253,
	"RestartSteps": 254, "RestartMaxDelaySec": 254, "RestartMode": 254, "FileDescriptorStorePreserve": 254,
	// systemd.kill(5)
	"FinalKillSignal": 240, "WatchdogSignal": 240, "RestartKillSignal": 244,
	// systemd.resource-control(5)
	"MemoryMin": 240, "DisableControllers": 240, "IODeviceLatencyTargetSec": 240, "DefaultStartupMemoryLow": 240,
	"CPUQuotaPeriodSec":   242,
	"IPIngressFilterPath": 243, "IPEgressFilterPath": 243,
	"AllowedCPUs": 244, "AllowedMemoryNodes": 244,
	"ManagedOOMSwap": 247, "ManagedOOMMemoryPressure": 247, "ManagedOOMMemoryPressureLimit": 247,
	"ManagedOOMPreference": 248,
	"SocketBindAllow":      249, "SocketBindDeny": 249, "BPFProgram": 249,
	"RestrictNetworkInterfaces": 250,
	"MemoryZSwapMax":            253,
	"DelegateSubgroup":          254, "MemoryPressureWatch": 254, "MemoryPressureThresholdSec": 254,
	"CoredumpReceive": 255, "NFTSet": 255,
	"MemoryZSwapWriteback": 256,
	// systemd.unit(5)
	"FailureActionExitStatus": 240, "SuccessActionExitStatus": 240, "JobTimeoutAction": 240,
	"ConditionEnvironment": 246, "AssertEnvironment": 246,
	"ConditionCPUFeature": 248,
	"Upholds":             249, "OnSuccess": 249, "PropagatesStopTo": 249, "StopPropagatedFrom": 249,
	"ConditionFirmware": 249, "ConditionOSRelease": 249,
	"ConditionMemoryPressure": 250, "ConditionCPUPressure": 250, "ConditionIOPressure": 250,
	"ConditionCredential":    252,
	"SurviveFinalKillSignal": 255, "ConditionSecurity": 255,
	"WantsMountsFor": 256,
	// systemd.timer(5)
	"OnClockChange": 242, "OnTimezoneChange": 242,
	"FixedRandomDelay":  247,
	"DeferReactivation": 257,
}

// valueSince are values newer than their directive: Type=exec (240, "a
// failed exec fails the start") and Type=notify-reload (253), from
// systemd.service(5) and NEWS.
var valueSince = map[[2]string]int{
	{"Type", "exec"}:          240,
	{"Type", "notify-reload"}: 253,
}

// KnownSince is the systemd version that reads Key=value in a unit file:
// the directive's own, or the value's when that is newer; 0 when both are
// older than every target wharf knows (239).
func KnownSince(key, value string) int {
	since := max(directiveSince[key], unitDirectiveSince[key])
	if v := valueSince[[2]string{key, strings.TrimSpace(value)}]; v > since {
		since = v
	}
	return since
}

// TooNew is a unit-file line a systemd version does not understand.
type TooNew struct {
	Line  int    // 1-based
	Key   string // "ProtectClock"
	Value string
	Since int // the systemd version that added it
}

// TooNewFor lists the directives of a unit file body that systemd version
// does not know: it would log "Unknown key name" (or reject the value)
// and run the unit without them.
func TooNewFor(body []byte, version int) []TooNew {
	var out []TooNew
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		key = strings.TrimSpace(key)
		if since := KnownSince(key, value); since > version {
			out = append(out, TooNew{Line: n, Key: key, Value: strings.TrimSpace(value), Since: since})
		}
	}
	return out
}
