package rpm

// Header data types (rpm's rpmTagType).
const (
	typeNull        = 0
	typeChar        = 1
	typeInt8        = 2
	typeInt16       = 3
	typeInt32       = 4
	typeInt64       = 5
	typeString      = 6
	typeBin         = 7
	typeStringArray = 8
	typeI18NString  = 9
)

// Region tags: the first index entry of a header, marking it immutable.
const (
	tagHeaderSignatures = 62
	tagHeaderImmutable  = 63
	tagI18NTable        = 100
)

// Signature header tags (RPMSIGTAG_*).
const (
	sigSize            = 1000
	sigPayloadSize     = 1007
	sigSHA1            = 269
	sigSHA256          = 273
	sigLongSize        = 270
	sigLongArchiveSize = 271
)

// Main header tags (RPMTAG_*).
const (
	tagName              = 1000
	tagVersion           = 1001
	tagRelease           = 1002
	tagEpoch             = 1003
	tagSummary           = 1004
	tagDescription       = 1005
	tagBuildTime         = 1006
	tagBuildHost         = 1007
	tagSize              = 1009
	tagVendor            = 1011
	tagLicense           = 1014
	tagPackager          = 1015
	tagGroup             = 1016
	tagURL               = 1020
	tagOS                = 1021
	tagArch              = 1022
	tagPreIn             = 1023
	tagPostIn            = 1024
	tagPreUn             = 1025
	tagPostUn            = 1026
	tagFileSizes         = 1028
	tagFileModes         = 1030
	tagFileRdevs         = 1033
	tagFileMtimes        = 1034
	tagFileDigests       = 1035
	tagFileLinkTos       = 1036
	tagFileFlags         = 1037
	tagFileUserName      = 1039
	tagFileGroupName     = 1040
	tagSourceRPM         = 1044
	tagArchiveSize       = 1046
	tagFileVerifyFlags   = 1045
	tagProvideName       = 1047
	tagRequireFlags      = 1048
	tagRequireName       = 1049
	tagRequireVersion    = 1050
	tagConflictFlags     = 1053
	tagConflictName      = 1054
	tagConflictVersion   = 1055
	tagRPMVersion        = 1064
	tagChangelogTime     = 1080
	tagChangelogName     = 1081
	tagChangelogText     = 1082
	tagPreInProg         = 1085
	tagPostInProg        = 1086
	tagPreUnProg         = 1087
	tagPostUnProg        = 1088
	tagObsoleteName      = 1090
	tagFileDevices       = 1095
	tagFileInodes        = 1096
	tagFileLangs         = 1097
	tagSourcePackage     = 1106
	tagProvideFlags      = 1112
	tagProvideVersion    = 1113
	tagObsoleteFlags     = 1114
	tagObsoleteVersion   = 1115
	tagDirIndexes        = 1116
	tagBaseNames         = 1117
	tagDirNames          = 1118
	tagPayloadFormat     = 1124
	tagPayloadCompressor = 1125
	tagPayloadFlags      = 1126
	tagPreTrans          = 1151
	tagPostTrans         = 1152
	tagPreTransProg      = 1153
	tagPostTransProg     = 1154
	tagOldSuggestName    = 1156
	tagOldSuggestVersion = 1157
	tagOldSuggestFlags   = 1158
	tagOldEnhanceName    = 1159
	tagOldEnhanceVersion = 1160
	tagOldEnhanceFlags   = 1161
	tagLongArchiveSize   = 271 // a signature-range tag some builders put in the main header
	tagFileDigestAlgo    = 5011
	tagLongFileSizes     = 5008
	tagLongSize          = 5009
	tagRecommendName     = 5046
	tagRecommendVersion  = 5047
	tagRecommendFlags    = 5048
	tagSuggestName       = 5049
	tagSuggestVersion    = 5050
	tagSuggestFlags      = 5051
	tagSupplementName    = 5052
	tagSupplementVersion = 5053
	tagSupplementFlags   = 5054
	tagEnhanceName       = 5055
	tagEnhanceVersion    = 5056
	tagEnhanceFlags      = 5057
	tagEncoding          = 5062
	tagPayloadDigest     = 5092
	tagPayloadDigestAlgo = 5093
)

// Dependency sense bits rpm sets itself (RPMSENSE_*).
const (
	sensePostTrans    = 1 << 5
	sensePreTrans     = 1 << 7
	senseInterp       = 1 << 8
	senseScriptPre    = 1 << 9
	senseScriptPost   = 1 << 10
	senseScriptPreun  = 1 << 11
	senseScriptPostun = 1 << 12
	senseRPMLib       = 1 << 24
)

// File flags (RPMFILE_*).
const (
	fileConfig    = 1 << 0
	fileNoReplace = 1 << 4
	fileGhost     = 1 << 6
)

// File verify flags (RPMVERIFY_*).
const (
	verifyAll        = 0xffffffff
	verifyFileDigest = 1 << 0
	verifyFileSize   = 1 << 1
	verifyLinkTo     = 1 << 2
	verifyMtime      = 1 << 5
)

const digestSHA256 = 8 // PGPHASHALGO_SHA256

// leadArch is the lead's archnum (rpmrc's arch_canon); rpm ignores it.
func leadArch(arch string) uint16 {
	switch arch {
	case "x86_64", "i686", "i386":
		return 1
	case "aarch64":
		return 19
	case "ppc64le", "ppc64":
		return 16
	case "s390x":
		return 15
	case "riscv64":
		return 22
	}
	return 0
}

// isaName is the %{_isa} marker rpmbuild appends to the arch-specific
// self-provide ("myapp(x86-64)"); "" for noarch and unknown arches.
func isaName(arch string) string {
	switch arch {
	case "x86_64":
		return "x86-64"
	case "i686", "i386":
		return "x86-32"
	case "aarch64":
		return "aarch-64"
	case "ppc64le", "ppc64":
		return "ppc-64"
	case "s390x":
		return "s390-64"
	case "riscv64":
		return "riscv-64"
	}
	return ""
}
