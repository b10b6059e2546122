"""The sync a user would write without appscan-bridge: plain `requests` against the
AppScan on Cloud REST API v4 (as the vendor's samples do), into SQLite.

Logs in with the API key, lists the applications, pages through each application's
issues with $top/$skip, and upserts applications and issues (id, a few columns and
the raw JSON) in one transaction per page. Sequential, one keep-alive session: what
the vendor's samples and most in-house scripts look like.

Usage: asoc_sync.py BASE_URL KEY_ID DB_FILE PAGE_SIZE   (the key secret comes from
the environment variable APPSCAN_KEY_SECRET). Prints one JSON line with the counts.
"""

import json
import os
import sqlite3
import sys

import requests


def pages(session, url, page_size):
    skip = 0
    while True:
        r = session.get(url, params={"$top": page_size, "$skip": skip, "$count": "true"})
        r.raise_for_status()
        body = r.json()
        items = body.get("Items") or []
        if not items:
            return
        yield items
        skip += len(items)
        count = body.get("Count")
        if count is not None and skip >= count:
            return


def main():
    base, key_id, db_file, page_size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    session = requests.Session()
    login = session.post(
        f"{base}/api/v4/Account/ApiKeyLogin",
        json={"KeyId": key_id, "KeySecret": os.environ["APPSCAN_KEY_SECRET"]},
    )
    login.raise_for_status()
    session.headers["Authorization"] = "Bearer " + login.json()["Token"]

    db = sqlite3.connect(db_file)
    # As appscan-bridge's store runs: WAL with synchronous=NORMAL (Python's default,
    # FULL, syncs at every commit and would handicap the peer).
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS apps (id TEXT PRIMARY KEY, name TEXT, raw TEXT)")
    db.execute(
        "CREATE TABLE IF NOT EXISTS issues (id TEXT PRIMARY KEY, app_id TEXT, severity TEXT,"
        " status TEXT, issue_type TEXT, location TEXT, cwe INTEGER, last_updated TEXT, raw TEXT)"
    )
    apps = issues = 0
    for page in pages(session, f"{base}/api/v4/Apps", page_size):
        with db:
            db.executemany(
                "INSERT INTO apps VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
                " name = excluded.name, raw = excluded.raw",
                [(a["Id"], a.get("Name"), json.dumps(a)) for a in page],
            )
        for app in page:
            apps += 1
            url = f"{base}/api/v4/Issues/Application/{app['Id']}"
            for items in pages(session, url, page_size):
                with db:
                    db.executemany(
                        "INSERT INTO issues VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id)"
                        " DO UPDATE SET severity = excluded.severity, status = excluded.status,"
                        " last_updated = excluded.last_updated, raw = excluded.raw",
                        [
                            (
                                i["Id"],
                                app["Id"],
                                i.get("Severity"),
                                i.get("Status"),
                                i.get("IssueType"),
                                i.get("Location"),
                                i.get("Cwe"),
                                i.get("LastUpdated"),
                                json.dumps(i),
                            )
                            for i in items
                        ],
                    )
                issues += len(items)
    session.get(f"{base}/api/v4/Account/Logout")
    print(json.dumps({"apps": apps, "issues": issues}))


if __name__ == "__main__":
    main()
