"""Parse an exposition read from stdin with prometheus_client and print it as JSON.

Usage: python openmetrics_parse.py openmetrics|text < body

Prints {"families": [...]} when the parser accepts the body, {"error": "..."} when it
rejects it (exit 0 in both cases). Exit 3 means prometheus_client is not installed.
Values are written with repr(float(v)), which round-trips every double exactly and
spells the special values inf, -inf and nan.
"""
import json
import sys

try:
    from prometheus_client.openmetrics.parser import (
        text_string_to_metric_families as openmetrics_families,
    )
    from prometheus_client.parser import text_string_to_metric_families as text_families
except ImportError as error:
    print(f"prometheus_client is not importable: {error}", file=sys.stderr)
    sys.exit(3)


def exemplar(sample):
    """The sample's exemplar as JSON, or None."""
    found = getattr(sample, "exemplar", None)
    if found is None:
        return None
    return {
        "labels": dict(found.labels),
        "value": repr(float(found.value)),
        "timestamp": None if found.timestamp is None else repr(float(found.timestamp)),
    }


def main():
    parser = {"openmetrics": openmetrics_families, "text": text_families}[sys.argv[1]]
    body = sys.stdin.buffer.read().decode("utf-8")
    try:
        families = list(parser(body))
    except Exception as error:  # the parsers raise ValueError, and a few others on junk
        json.dump({"error": f"{type(error).__name__}: {error}"}, sys.stdout)
        return
    json.dump(
        {
            "families": [
                {
                    "name": family.name,
                    "type": family.type,
                    "unit": family.unit,
                    "help": family.documentation,
                    "samples": [
                        {
                            "name": sample.name,
                            "labels": dict(sample.labels),
                            "value": repr(float(sample.value)),
                            "exemplar": exemplar(sample),
                        }
                        for sample in family.samples
                    ],
                }
                for family in families
            ]
        },
        sys.stdout,
    )


main()
