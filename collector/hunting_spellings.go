package collector

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Advanced hunting spells some values differently from the MDE API: the
// DeviceInfo table writes onboarding states out in words, the configuration
// assessment table "Security controls" with a space, the antivirus fields
// of DeviceTvmInfoGathering booleans and mode codes. On the graph back end
// every such value is written as the MDE back end writes it, so that a rule
// or dashboard made for one back end works on the other. This table is the
// whole mapping; docs/device-posture-graph.md shows it beside each label.
var huntingSpellings = struct {
	onboarding, configCategory, avFlag map[string]string
}{
	// DeviceInfo.OnboardingStatus -> machine onboardingStatus.
	onboarding: map[string]string{
		"Can be onboarded":  "CanBeOnboarded",
		"Insufficient info": "InsufficientInfo",
	},
	// DeviceTvmSecureConfigurationAssessment.ConfigurationCategory ->
	// recommendationCategory.
	configCategory: map[string]string{
		"Security controls": "SecurityControls",
	},
	// AdditionalFields.AvIs*UpToDate (tostring of a boolean) -> the
	// device health export's avIs*UpToDate.
	avFlag: map[string]string{
		"true":  "True",
		"false": "False",
	},
}

// fromHunting spells a hunting enum value as the MDE back end does: the
// table's own mapping first, then the MDE enum's canonical spelling (which
// also folds case); a value neither knows keeps its spelling with the first
// letter upper-cased, the Graph back end's rule for enum labels. "" stays
// "".
func fromHunting(v string, spellings map[string]string, e enum) string {
	if v == "" {
		return ""
	}
	if s, ok := spellings[v]; ok {
		return s
	}
	if e != nil {
		if c, ok := e[v]; ok {
			return c
		}
		if c, ok := e[strings.ToLower(v)]; ok {
			return c
		}
	}
	return upperFirst(v)
}

func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || unicode.IsUpper(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// avModeFromHunting names AdditionalFields.AvMode as the MDE back end names
// avMode: the same string codes, "" meaning Other.
func avModeFromHunting(code string) string {
	if code == "" {
		return "Other"
	}
	if v, err := strconv.ParseFloat(code, 64); err == nil {
		if name, ok := avModes[v]; ok {
			return name
		}
		return code // an unknown code keeps its digits, as on the MDE back end
	}
	return upperFirst(code)
}
