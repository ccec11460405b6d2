package distro

import "github.com/wharf-pkg/wharf/internal/compress"

// Builtin returns the profiles wharf knows. Figures are the distros' own:
// Python and glibc versions from each release's package lists (Debian and
// Ubuntu: packages.debian.org / packages.ubuntu.com; RHEL: the RHEL release
// notes and AppStream module lists; Amazon Linux 2023: its release notes).
// Debian's dpkg reads zstd members from 1.21.18 (Debian 12), but Debian's
// own archive tools and lintian still refuse them (malformed-deb-archive),
// so Debian profiles use xz, dpkg-deb's default; Ubuntu builds its archive
// with zstd since 21.10. rpm reads zstd payloads from 4.14 as shipped in
// RHEL 8.4+, but RHEL 8 itself still builds xz, which stays the safe pick.
// GLIBCXX and CXXABI are those of the GCC release that builds the distro's
// libstdc++, from the libstdc++ manual's ABI policy ("Symbol versioning":
// GCC 8.1.0 GLIBCXX_3.4.25/CXXABI_1.3.11, 10.1.0 3.4.28/1.3.12, 11.1.0
// 3.4.29/1.3.13, 12.1.0 3.4.30/1.3.13, 14.1.0 3.4.33/1.3.15); the Debian
// figures were read from each release's libstdc++.so.6 too.
func Builtin() Catalog {
	return Catalog{distros: []Distro{
		{
			Name: "debian-11", ID: "debian", VersionID: "11",
			Pythons:    []Python{{"3.9", "3.9.2", "/usr/bin/python3.9", "python3.9"}},
			GlibcMajor: 2, GlibcMinor: 31, Format: Deb, Compression: compress.Xz,
			Systemd: 247, UnitDir: "/lib/systemd/system", UserTool: Adduser, DebRevisionTag: "+deb11",
			Reads:   []compress.Kind{compress.Xz, compress.Gzip},
			GLIBCXX: "3.4.28", CXXABI: "1.3.12",
			Source: "bullseye: python3.9 3.9.2-1, libc6 2.31-13, dpkg 1.20.x (no zstd); libstdc++6 10.2.1-6 (gcc-10): GLIBCXX_3.4.28, CXXABI_1.3.12",
		},
		{
			Name: "debian-12", ID: "debian", VersionID: "12",
			Pythons:    []Python{{"3.11", "3.11.2", "/usr/bin/python3.11", "python3.11"}},
			GlibcMajor: 2, GlibcMinor: 36, Format: Deb, Compression: compress.Xz,
			Systemd: 252, UnitDir: "/lib/systemd/system", UserTool: Adduser, DebRevisionTag: "+deb12",
			Reads:   []compress.Kind{compress.Zstd, compress.Xz, compress.Gzip},
			GLIBCXX: "3.4.30", CXXABI: "1.3.13",
			Source: "bookworm: python3.11 3.11.2-6, libc6 2.36-9, dpkg 1.21.22; libstdc++6 12.2.0-14 (gcc-12): GLIBCXX_3.4.30, CXXABI_1.3.13",
		},
		{
			Name: "debian-13", ID: "debian", VersionID: "13",
			Pythons:    []Python{{"3.13", "3.13.5", "/usr/bin/python3.13", "python3.13"}},
			GlibcMajor: 2, GlibcMinor: 41, Format: Deb, Compression: compress.Xz,
			Systemd: 257, UnitDir: "/usr/lib/systemd/system", UserTool: Adduser, DebRevisionTag: "+deb13",
			Reads:   []compress.Kind{compress.Zstd, compress.Xz, compress.Gzip},
			GLIBCXX: "3.4.33", CXXABI: "1.3.15",
			Source: "trixie: python3.13 3.13.5-2, libc6 2.41-12, dpkg 1.22.21; units moved to /usr/lib; libstdc++6 14.2.0-19 (gcc-14): GLIBCXX_3.4.33, CXXABI_1.3.15",
		},
		{
			Name: "ubuntu-22.04", ID: "ubuntu", VersionID: "22.04",
			Pythons:    []Python{{"3.10", "3.10.12", "/usr/bin/python3.10", "python3.10"}},
			GlibcMajor: 2, GlibcMinor: 35, Format: Deb, Compression: compress.Zstd,
			Systemd: 249, UnitDir: "/lib/systemd/system", UserTool: Adduser, DebRevisionTag: "+ubuntu22.04",
			Reads:   []compress.Kind{compress.Zstd, compress.Xz, compress.Gzip},
			GLIBCXX: "3.4.30", CXXABI: "1.3.13",
			Source: "jammy: python3.10 3.10.12-1~22.04, libc6 2.35-0ubuntu3, dpkg 1.21.1ubuntu2 (zstd patch); libstdc++6 from gcc-12: GLIBCXX_3.4.30, CXXABI_1.3.13",
		},
		{
			Name: "ubuntu-24.04", ID: "ubuntu", VersionID: "24.04",
			Pythons:    []Python{{"3.12", "3.12.3", "/usr/bin/python3.12", "python3.12"}},
			GlibcMajor: 2, GlibcMinor: 39, Format: Deb, Compression: compress.Zstd,
			Systemd: 255, UnitDir: "/usr/lib/systemd/system", UserTool: Adduser, DebRevisionTag: "+ubuntu24.04",
			Reads:   []compress.Kind{compress.Zstd, compress.Xz, compress.Gzip},
			GLIBCXX: "3.4.33", CXXABI: "1.3.15",
			Source: "noble: python3.12 3.12.3-1, libc6 2.39-0ubuntu8, dpkg 1.22.6ubuntu6; libstdc++6 from gcc-14: GLIBCXX_3.4.33, CXXABI_1.3.15",
		},
		{
			Name: "rhel-8", ID: "rhel", VersionID: "8",
			// 3.6 is the platform default but too old for most apps; the
			// python3.11/python3.12 AppStream packages come first.
			Pythons: []Python{
				{"3.11", "3.11.11", "/usr/bin/python3.11", "python3.11"},
				{"3.12", "3.12.8", "/usr/bin/python3.12", "python3.12"},
				{"3.6", "3.6.8", "/usr/bin/python3.6", "python36"},
			},
			GlibcMajor: 2, GlibcMinor: 28, Format: RPM, Compression: compress.Xz,
			Systemd: 239, UnitDir: "/usr/lib/systemd/system", UserTool: Useradd, ReleaseTag: ".el8", RPM: "4.14.3",
			NoCaret: true, Reads: []compress.Kind{compress.Zstd, compress.Xz, compress.Gzip},
			GLIBCXX: "3.4.25", CXXABI: "1.3.11",
			Source: "RHEL 8.10: glibc 2.28, python3.11 and python3.12 AppStream packages, rpm 4.14.3; libstdc++ of the system GCC 8 (gcc-toolset does not replace it): GLIBCXX_3.4.25, CXXABI_1.3.11",
		},
		{
			Name: "rhel-9", ID: "rhel", VersionID: "9",
			Pythons: []Python{
				{"3.9", "3.9.21", "/usr/bin/python3.9", "python3.9"},
				{"3.11", "3.11.11", "/usr/bin/python3.11", "python3.11"},
				{"3.12", "3.12.8", "/usr/bin/python3.12", "python3.12"},
			},
			GlibcMajor: 2, GlibcMinor: 34, Format: RPM, Compression: compress.Zstd,
			Systemd: 252, UnitDir: "/usr/lib/systemd/system", UserTool: Useradd, ReleaseTag: ".el9", RPM: "4.16.1",
			Reads:   []compress.Kind{compress.Zstd, compress.Xz, compress.Gzip},
			GLIBCXX: "3.4.29", CXXABI: "1.3.13",
			Source: "RHEL 9.5: glibc 2.34, python3 3.9 (provides python3.9), python3.11/3.12 AppStream, rpm 4.16.1; libstdc++ of the system GCC 11: GLIBCXX_3.4.29, CXXABI_1.3.13",
		},
		{
			Name: "rhel-10", ID: "rhel", VersionID: "10",
			Pythons:    []Python{{"3.12", "3.12.9", "/usr/bin/python3.12", "python3.12"}},
			GlibcMajor: 2, GlibcMinor: 39, Format: RPM, Compression: compress.Zstd,
			Systemd: 257, UnitDir: "/usr/lib/systemd/system", UserTool: Useradd, ReleaseTag: ".el10", RPM: "4.19.1",
			Reads:   []compress.Kind{compress.Zstd, compress.Xz, compress.Gzip},
			GLIBCXX: "3.4.33", CXXABI: "1.3.15",
			Source: "RHEL 10.0: glibc 2.39, python3 3.12, rpm 4.19.1; libstdc++ of the system GCC 14: GLIBCXX_3.4.33, CXXABI_1.3.15",
		},
		{
			Name: "amazonlinux-2023", ID: "amzn", VersionID: "2023",
			Pythons: []Python{
				{"3.9", "3.9.23", "/usr/bin/python3.9", "python3.9"},
				{"3.11", "3.11.13", "/usr/bin/python3.11", "python3.11"},
			},
			GlibcMajor: 2, GlibcMinor: 34, Format: RPM, Compression: compress.Zstd,
			Systemd: 252, UnitDir: "/usr/lib/systemd/system", UserTool: Useradd, ReleaseTag: ".amzn2023", RPM: "4.16.1",
			Reads:   []compress.Kind{compress.Zstd, compress.Xz, compress.Gzip},
			GLIBCXX: "3.4.29", CXXABI: "1.3.13",
			Source: "Amazon Linux 2023: glibc 2.34, python3 3.9 and python3.11, rpm 4.16.1; libstdc++ of the system GCC 11: GLIBCXX_3.4.29, CXXABI_1.3.13",
		},
	}}
}
