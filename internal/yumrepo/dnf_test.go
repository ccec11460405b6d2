package yumrepo

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/wharf-pkg/wharf/internal/testenv"
)

// TestDNFReadsRepository serves a rendered repository to the real dnf
// (file:// baseurl, isolated installroot and config) and queries it:
// package set, dependencies, primary and filelists files, changelogs.
func TestDNFReadsRepository(t *testing.T) {
	dnf := testenv.Tool(t, "dnf")
	for _, c := range []struct {
		name string
		zstd bool
	}{{"gzip", false}, {"zstd", true}} {
		t.Run(c.name, func(t *testing.T) {
			tmp := t.TempDir()
			repo := filepath.Join(tmp, "repo")
			var pkgs []Package
			for _, p := range testdataRPMs(t) {
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				loc := "Packages/" + filepath.Base(p)
				writeFiles(t, repo, []File{{Path: loc, Data: data}})
				pkg, err := ReadRPMFile(filepath.Join(repo, loc), ReadOptions{Location: loc})
				if err != nil {
					t.Fatal(err)
				}
				pkgs = append(pkgs, pkg)
			}
			files, err := Render(pkgs, Options{Time: testTime, Zstd: c.zstd})
			if err != nil {
				t.Fatal(err)
			}
			writeFiles(t, repo, files)

			conf := filepath.Join(tmp, "dnf.conf")
			repos := filepath.Join(tmp, "repos.d")
			writeFiles(t, tmp, []File{
				{Path: "dnf.conf", Data: []byte("[main]\ngpgcheck=0\ncachedir=" + tmp + "/cache\nlogdir=" + tmp + "/log\npersistdir=" + tmp + "/persist\n")},
				{Path: "repos.d/wharf.repo", Data: []byte("[wharf-test]\nname=wharf test\nbaseurl=file://" + repo + "\ngpgcheck=0\nrepo_gpgcheck=0\nmetadata_expire=0\n")},
			})
			base := []string{"--installroot", filepath.Join(tmp, "root"), "--setopt=reposdir=" + repos,
				"--config", conf, "--noplugins", "--releasever=1", "--disablerepo=*", "--enablerepo=wharf-test", "-q"}
			dnfRun := func(args ...string) []string {
				out := run(t, nil, dnf, append(append([]string{}, base...), args...)...)
				var lines []string
				for _, l := range strings.Split(out, "\n") {
					if l = strings.TrimSpace(l); l != "" {
						lines = append(lines, l)
					}
				}
				sort.Strings(lines)
				return lines
			}
			dnfRun("makecache")
			got := dnfRun("repoquery", "-a", "--qf", "%{name}-%{epoch}:%{version}-%{release}.%{arch}")
			var want []string
			for _, p := range pkgs {
				want = append(want, p.Name+"-"+p.Epoch+":"+p.Version+"-"+p.Release+"."+p.Arch)
			}
			sort.Strings(want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("dnf repoquery -a = %q, want %q", got, want)
			}
			checks := []struct {
				args []string
				want []string
			}{
				{[]string{"repoquery", "--requires", "demo"}, []string{"/bin/sh", "bash", "python3 >= 3.9", "shadow-utils"}},
				{[]string{"repoquery", "--provides", "demo"}, []string{"config(demo) = 2:1.2.3-4", "demo = 2:1.2.3-4", "demo-api = 1.0"}},
				{[]string{"repoquery", "--conflicts", "demo"}, []string{"olddemo < 1.0-2"}},
				{[]string{"repoquery", "--recommends", "weak"}, []string{"rec >= 1"}},
				{[]string{"repoquery", "--qf", "%{name}", "--whatprovides", "/etc/demo/demo.conf"}, []string{"demo"}},
				{[]string{"repoquery", "-l", "demo"}, []string{"/etc/demo", "/etc/demo/demo.conf", "/opt/demo", "/opt/demo/bin", "/opt/demo/bin/demo", "/opt/demo/readme.txt", "/var/log/demo", "/var/log/demo/demo.log"}},
				{[]string{"repoquery", "--qf", "%{name}", "--whatprovides", "/opt/demo/readme.txt"}, []string{"demo"}},
			}
			for _, c := range checks {
				if got := dnfRun(c.args...); !reflect.DeepEqual(got, c.want) {
					t.Errorf("dnf %s = %q, want %q", strings.Join(c.args, " "), got, c.want)
				}
			}
			// other.xml: changelogs, newest first in dnf's output.
			log := strings.Join(dnfRun("repoquery", "--changelogs", "demo"), "\n")
			for _, s := range []string{"Second change", "First & <change>", "Same day entry"} {
				if !strings.Contains(log, s) {
					t.Errorf("dnf changelogs of demo miss %q:\n%s", s, log)
				}
			}
		})
	}
}
