#!/usr/bin/env python3
"""The metric names the chart's alerts and dashboard query, checked against real /metrics.

  promql_names.py selectors EXPR             print each selector of one PromQL expression
  promql_names.py queries RULES DASHBOARD    print every expression (source <TAB> expr)
  promql_names.py check RULES DASHBOARD METRICS...
      every selector of every expression names a metric that has a sample in one of the
      METRICS files (Prometheus text exposition, as scraped); each label a matcher names
      is on one of its samples, and each value an equality matcher asks for is one of them

RULES: a Prometheus rule file (the `spec` of the chart's PrometheusRule); DASHBOARD:
Grafana dashboard JSON. Only the selectors' names and matchers are read from an expression:
promtool check rules judges the syntax of the rules. The scanner below skips strings,
range and subquery brackets, function and aggregation names (an identifier followed by
`(`), keywords, numbers and durations, and the label lists of by/without/on/ignoring/
group_left/group_right; every identifier left is a metric name. Grafana's $__interval
style variables stand inside ranges only; any other variable is refused, as is a query
variable (their metric names would escape the check).
"""
import json
import re
import sys

import yaml

IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_LISTS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS = LABEL_LISTS | {"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"}
MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')
GRAFANA_RANGE_VARIABLE = re.compile(r"\$(__rate_interval|__interval|__range)\b|\$\{(__rate_interval|__interval|__range)\}")


class ParseError(Exception):
    pass


def _skip_string(s, i):
    quote = s[i]
    i += 1
    while i < len(s):
        if s[i] == "\\" and quote != "`":
            i += 2
            continue
        if s[i] == quote:
            return i + 1
        i += 1
    raise ParseError("unterminated string")


def _closing(s, i, open_char, close_char):
    """Index after the bracket that closes the one at s[i]."""
    depth = 0
    while i < len(s):
        c = s[i]
        if c in "\"'`":
            i = _skip_string(s, i)
            continue
        if c == open_char:
            depth += 1
        elif c == close_char:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ParseError(f"no closing {close_char}")


def _matchers(body):
    out = []
    rest = body.strip()
    while rest:
        m = MATCHER.match(rest)
        if not m:
            raise ParseError(f"cannot read the matchers {{{body}}}")
        out.append((m.group(1), m.group(2), m.group(3)))
        rest = rest[m.end():].strip()
    return out


def selectors(expr):
    """[(metric name, [(label, op, value)])] of a PromQL expression."""
    s = GRAFANA_RANGE_VARIABLE.sub("5m", expr)
    if "$" in s:
        raise ParseError(f"a dashboard variable other than $__rate_interval/$__interval: {expr}")
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c in "\"'`":
            i = _skip_string(s, i)
        elif c == "#":
            j = s.find("\n", i)
            i = len(s) if j < 0 else j
        elif c == "[":
            i = _closing(s, i, "[", "]")
        elif c == "{":
            raise ParseError(f"a selector without a metric name: {expr}")
        elif c.isdigit() or (c == "." and i + 1 < len(s) and s[i + 1].isdigit()):
            m = re.compile(r"[0-9a-zA-Z_.]+").match(s, i)
            i = m.end()
        elif IDENT.match(s, i):
            m = IDENT.match(s, i)
            name = m.group(0)
            i = m.end()
            j = i
            while j < len(s) and s[j].isspace():
                j += 1
            nxt = s[j] if j < len(s) else ""
            if name.lower() in KEYWORDS:
                if name.lower() in LABEL_LISTS and nxt == "(":
                    i = _closing(s, j, "(", ")")
                continue
            if nxt == "(":
                continue  # a function or an aggregation
            after = IDENT.match(s, j)
            if after and after.group(0).lower() in ("by", "without"):
                continue  # an aggregation whose by/without comes first: sum by (l) (...)
            matchers = []
            if nxt == "{":
                end = _closing(s, j, "{", "}")
                matchers = _matchers(s[j + 1:end - 1])
                i = end
            out.append((name, matchers))
        else:
            i += 1
    return out


def queries(rules_path, dashboard_path):
    """[(source, expr)] of every alert/record rule and every dashboard target."""
    out = []
    with open(rules_path) as f:
        rules = yaml.safe_load(f)
    for group in rules.get("groups") or []:
        for rule in group.get("rules") or []:
            name = rule.get("alert") or rule.get("record")
            out.append((f"rule {name}", str(rule["expr"])))
    with open(dashboard_path) as f:
        dashboard = json.load(f)

    def panels(items):
        for p in items or []:
            yield p
            yield from panels(p.get("panels"))

    for p in panels(dashboard.get("panels")):
        for t in p.get("targets") or []:
            if "expr" in t:
                out.append((f"panel {p.get('title')!r} {t.get('refId')}", t["expr"]))
    for v in (dashboard.get("templating") or {}).get("list") or []:
        if v.get("type") == "query":
            raise ParseError(f"dashboard variable {v.get('name')}: query variables are not checked")
    return out


SAMPLE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+\S+")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scraped(paths):
    """{metric name: [{label: value}]} of every sample in the exposition files."""
    out = {}
    for path in paths:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                m = SAMPLE.match(line)
                if not m:
                    raise ParseError(f"{path}: not a sample: {line}")
                out.setdefault(m.group(1), []).append(dict(LABEL.findall(m.group(3) or "")))
    return out


def check(rules_path, dashboard_path, metric_paths):
    exported = scraped(metric_paths)
    problems = []
    checked = set()
    for source, expr in queries(rules_path, dashboard_path):
        found = selectors(expr)
        if not found:
            problems.append(f"{source}: no metric name in {expr!r}")
        for name, matchers in found:
            checked.add(name)
            samples = exported.get(name)
            if not samples:
                problems.append(f"{source}: {name} is not exported (no sample scraped)")
                continue
            for label, op, value in matchers:
                values = {s[label] for s in samples if label in s}
                if not values:
                    problems.append(f"{source}: {name} has no label {label}")
                elif op == "=" and value not in values:
                    problems.append(f"{source}: {name}{{{label}={value!r}}}: scraped values are "
                                    f"{sorted(values)}")
    for p in problems:
        print(f"promql_names: {p}", file=sys.stderr)
    print(f"promql_names: {len(checked)} metric names checked: {' '.join(sorted(checked))}")
    return 1 if problems else 0


def main(argv):
    if len(argv) == 3 and argv[1] == "selectors":
        for name, matchers in selectors(argv[2]):
            print(name + "".join(f" {l}{o}{v!r}" for l, o, v in matchers))
        return 0
    if len(argv) == 4 and argv[1] == "queries":
        for source, expr in queries(argv[2], argv[3]):
            print(f"{source}\t{' '.join(expr.split())}")
        return 0
    if len(argv) >= 5 and argv[1] == "check":
        return check(argv[2], argv[3], argv[4:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except ParseError as e:
        print(f"promql_names: {e}", file=sys.stderr)
        sys.exit(1)
