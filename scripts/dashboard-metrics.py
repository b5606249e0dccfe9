#!/usr/bin/env python3
"""Prints, one per line and sorted, every puente metric that the Grafana
dashboard (contrib/grafana/puente.json) and the alerting rules
(contrib/prometheus/puente.rules.yml) read, as the names appear in a
/metrics scrape's samples: `puente_events_total`,
`puente_commit_seconds_bucket`, `puente_ready`. A test of the running service
compares them with a real scrape, so a renamed metric cannot silently empty
a panel or an alert.

Read: every `expr` of the rules file, and every `expr`, `query` and
`definition` of the dashboard (panels' targets and template variables).
Names inside quoted strings (label values) and after `#` (PromQL comments)
are not metrics; recording rules' names (`puente:…`) and metrics of other
exporters (`up`) are not puente's.

    python3 scripts/dashboard-metrics.py [--root DIR]   # the list
    python3 scripts/dashboard-metrics.py --self-test    # the parser's tests
    python3 scripts/dashboard-metrics.py --dashboard-rules [--root DIR]

The last prints the dashboard's queries as a rules file, one recording rule
each, with Grafana's interval macros replaced by durations and a template
variable's `label_values(selector, label)` by its selector, so that
`promtool check rules` can tell whether every query is valid PromQL
(`make rules-test` does).

Only the standard library: the rules file is YAML, but only its `expr:`
values are read, plain or block scalars, which this reads line by line.
"""
import json
import os
import re
import sys

DASHBOARD = os.path.join("contrib", "grafana", "puente.json")
RULES = os.path.join("contrib", "prometheus", "puente.rules.yml")

# A metric name, not preceded by a name character (so `xpuente_a` and the
# recording rule `puente:a` do not count).
METRIC = re.compile(r"(?<![A-Za-z0-9_:])puente_[A-Za-z0-9_]*[A-Za-z0-9]")


def strip_strings_and_comments(expr):
    """The expression with quoted strings emptied and comments removed."""
    out = []
    i, n = 0, len(expr)
    while i < n:
        c = expr[i]
        if c in "\"'`":
            j = i + 1
            while j < n and expr[j] != c:
                j += 2 if expr[j] == "\\" and c != "`" else 1
            out.append(c + c)
            i = j + 1
        elif c == "#":
            j = expr.find("\n", i)
            i = n if j < 0 else j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def metrics_in(expr):
    return set(METRIC.findall(strip_strings_and_comments(expr)))


def yaml_exprs(text):
    """The values of every `expr:` key: plain, quoted, or block scalars."""
    lines = text.splitlines()
    exprs = []
    i = 0
    while i < len(lines):
        match = re.match(r"^(\s*)(?:-\s+)?expr:\s*(.*)$", lines[i])
        i += 1
        if not match:
            continue
        indent = len(match.group(1))
        value = match.group(2).strip()
        if re.fullmatch(r"[|>][-+0-9]*", value):
            block = []
            while i < len(lines) and (
                not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent
            ):
                block.append(lines[i])
                i += 1
            exprs.append("\n".join(block))
        else:
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            exprs.append(value)
    return exprs


def json_queries(node):
    """Every `expr`, `query` and `definition` string in a Grafana dashboard
    (but the data source variable's, whose query is a plugin's name)."""
    found = []
    if isinstance(node, dict) and node.get("type") == "datasource":
        return found
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "query", "definition") and isinstance(value, str):
                found.append(value)
            else:
                found.extend(json_queries(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(json_queries(value))
    return found


# Grafana's interval macros, as durations PromQL takes.
MACROS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def as_promql(query):
    """A dashboard query as plain PromQL: macros replaced; a variable's
    `label_values(selector, label)` reduced to its selector."""
    for macro, duration in MACROS.items():
        query = query.replace(macro, duration)
    match = re.fullmatch(r"\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*", query, re.S)
    return match.group(1) if match else query


def dashboard_rules(root):
    """The dashboard's distinct queries as a Prometheus rules file."""
    with open(os.path.join(root, DASHBOARD), encoding="utf-8") as dashboard:
        queries = json_queries(json.load(dashboard))
    lines = ["# The queries of " + DASHBOARD + ", for `promtool check rules`.",
             "groups:", "  - name: dashboard-queries", "    rules:"]
    for n, query in enumerate(dict.fromkeys(as_promql(q) for q in queries)):
        lines.append(f"      - record: dashboard:query_{n}")
        lines.append("        expr: " + json.dumps(query))
    return "\n".join(lines) + "\n"


def used_metrics(root):
    names = set()
    with open(os.path.join(root, RULES), encoding="utf-8") as rules:
        for expr in yaml_exprs(rules.read()):
            names |= metrics_in(expr)
    with open(os.path.join(root, DASHBOARD), encoding="utf-8") as dashboard:
        for query in json_queries(json.load(dashboard)):
            names |= metrics_in(query)
    return sorted(names)


def self_test():
    cases = [
        ("rate(puente_events_total[5m])", {"puente_events_total"}),
        (
            'histogram_quantile(0.99, sum by (le) (rate(puente_commit_seconds_bucket[5m])))',
            {"puente_commit_seconds_bucket"},
        ),
        # Label values, comments and recording rules are not metrics.
        ('up{job="puente_prod"} == 0', set()),
        ("puente_ready # puente_leader is not read here\n== 0", {"puente_ready"}),
        ("sum(puente:whatsapp_messages:increase30m) > 0", set()),
        ("label_replace(puente_leader, \"x\", 'puente_y', \"\", \"\")", {"puente_leader"}),
        ("xpuente_a + puente_b_total", {"puente_b_total"}),
        ("label_values(puente_events_total{job=~\"$job\"}, whmcs_instance)", {"puente_events_total"}),
    ]
    failures = 0
    for expr, expected in cases:
        got = metrics_in(expr)
        if got != expected:
            failures += 1
            print(f"metrics_in({expr!r}) = {sorted(got)}, expected {sorted(expected)}")
    rules = """groups:
  - name: g
    rules:
      - record: puente:a:rate5m
        expr: rate(puente_a_total[5m])
      - alert: B
        expr: |
          puente_b == 0
          and
          puente_c > 1
        for: 2m
      - alert: C
        expr: 'puente_d == 1'
        annotations:
          description: "puente_not_an_expr"
      - alert: D
        expr: >-
          puente_e
          or puente_f
"""
    exprs = yaml_exprs(rules)
    got = set().union(*(metrics_in(expr) for expr in exprs))
    expected = {"puente_a_total", "puente_b", "puente_c", "puente_d", "puente_e", "puente_f"}
    if got != expected:
        failures += 1
        print(f"yaml_exprs: {exprs!r} gave {sorted(got)}, expected {sorted(expected)}")
    dashboard = {
        "templating": {"list": [
            {"type": "datasource", "name": "datasource", "query": "puente_not_promql"},
            {"query": {"query": "label_values(puente_v, x)"}, "definition": "label_values(puente_v, x)"},
        ]},
        "panels": [
            {"title": "puente_title_only", "targets": [{"expr": "puente_p_total"}]},
            {"type": "row", "panels": [{"targets": [{"expr": "puente_q"}]}]},
        ],
    }
    got = set().union(*(metrics_in(query) for query in json_queries(dashboard)))
    expected = {"puente_v", "puente_p_total", "puente_q"}
    if got != expected:
        failures += 1
        print(f"json_queries gave {sorted(got)}, expected {sorted(expected)}")
    for query, expected in [
        ("rate(puente_a_total[$__rate_interval])", "rate(puente_a_total[5m])"),
        ('label_values(puente_b{job=~"$job"}, whmcs_instance)', 'puente_b{job=~"$job"}'),
        ("label_values(puente_c, job)", "puente_c"),
        ("sum(increase(puente_d[1h]))", "sum(increase(puente_d[1h]))"),
    ]:
        if as_promql(query) != expected:
            failures += 1
            print(f"as_promql({query!r}) = {as_promql(query)!r}, expected {expected!r}")
    if failures:
        print(f"dashboard-metrics self-test: {failures} failure(s)")
        return 1
    print("dashboard-metrics self-test: ok")
    return 0


def main(argv):
    args = argv[1:]
    if args == ["--self-test"]:
        return self_test()
    as_rules = args[:1] == ["--dashboard-rules"]
    if as_rules:
        args = args[1:]
    root = os.getcwd()
    if len(args) == 2 and args[0] == "--root":
        root = args[1]
    elif args:
        print(__doc__, file=sys.stderr)
        return 2
    if as_rules:
        sys.stdout.write(dashboard_rules(root))
        return 0
    for name in used_metrics(root):
        print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
