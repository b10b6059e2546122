"""The peer of `appscan-bridge import`: the faraday-plugins AppScan XML plugin parsing a
report into Faraday's JSON (hosts, services, vulnerabilities), as `faraday-plugins
process-report` does, with hostname resolution off (no DNS in a benchmark).

Usage: faraday_parse.py REPORT.xml   Prints one JSON line with the vulnerability count.
"""

import json
import sys

from faraday_plugins.plugins.manager import PluginsManager


def main():
    plugin = PluginsManager(hostname_resolution=False).get_plugin("appscan")
    if plugin is None:
        sys.exit("faraday-plugins has no 'appscan' plugin")
    plugin.processReport(sys.argv[1])
    data = plugin.get_data()
    vulns = sum(len(h.get("vulnerabilities", [])) for h in data.get("hosts", []))
    vulns += sum(
        len(s.get("vulnerabilities", []))
        for h in data.get("hosts", [])
        for s in h.get("services", [])
    )
    print(json.dumps({"vulnerabilities": vulns}))


if __name__ == "__main__":
    main()
