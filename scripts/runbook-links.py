#!/usr/bin/env python3
"""Checks that every alert of contrib/prometheus/puente.rules.yml links, by
its runbook_url, to its own section of docs/RUNBOOK.md: the URL ends in
`RUNBOOK.md#<alert name in lower case>` and the runbook has a heading that
GitHub gives that anchor. Also checks the runbook's own `](#…)` links.
Prints each problem and exits 1; `make rules-test` runs it.

    python3 scripts/runbook-links.py [--root DIR]
"""
import os
import re
import sys

RULES = os.path.join("contrib", "prometheus", "puente.rules.yml")
RUNBOOK = os.path.join("docs", "RUNBOOK.md")
URL = "https://github.com/puente-whmcs/puente/blob/main/docs/RUNBOOK.md#"


def github_anchor(heading):
    """The anchor GitHub gives a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def problems(rules, runbook):
    anchors = {github_anchor(h) for h in re.findall(r"^#{1,6} (.+)$", runbook, re.M)}
    found = []
    # Each alert rule: its name and the text up to the next rule.
    alerts = re.split(r"^\s*- (?=alert:|record:)", rules, flags=re.M)
    names = 0
    for chunk in alerts:
        match = re.match(r"alert:\s*(\S+)", chunk)
        if not match:
            continue
        names += 1
        name = match.group(1)
        urls = re.findall(r"runbook_url:\s*(\S+)", chunk)
        expected = URL + name.lower()
        if urls != [expected]:
            found.append(f"{name}: runbook_url {urls or 'missing'}, expected {expected}")
        if name.lower() not in anchors:
            found.append(f"{name}: {RUNBOOK} has no section '## {name}'")
    if names == 0:
        found.append(f"{RULES}: no alert found")
    for link in re.findall(r"\]\(#([^)]+)\)", runbook):
        if link not in anchors:
            found.append(f"{RUNBOOK}: link to #{link}, which no heading has")
    return found


def main(argv):
    root = argv[2] if argv[1:2] == ["--root"] and len(argv) == 3 else os.getcwd()
    with open(os.path.join(root, RULES), encoding="utf-8") as file:
        rules = file.read()
    with open(os.path.join(root, RUNBOOK), encoding="utf-8") as file:
        runbook = file.read()
    found = problems(rules, runbook)
    for problem in found:
        print(problem)
    if found:
        return 1
    print(f"{RULES}: every alert links to its section of {RUNBOOK}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
