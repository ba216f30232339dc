from __future__ import annotations

from observability.promql import metric_names, substitute_variables


def test_metric_names_ignores_functions_labels_durations_and_grouping() -> None:
    expr = (
        "histogram_quantile(0.95, sum by (service, le) "
        "(rate(stackyard_request_duration_seconds_bucket"
        '{service=~"$service",status_code=~"5.."}[$__rate_interval]))) / on (service) '
        'group_left max(up{job="x"} offset 5m) > bool 1e3'
    )
    assert metric_names(expr) == {"stackyard_request_duration_seconds_bucket", "up"}


def test_metric_names_finds_recorded_series_and_both_sides_of_a_ratio() -> None:
    expr = "service:stackyard_requests_errors:ratio_rate1h / 0.001 + node_load1 unless redis_up"
    assert metric_names(expr) == {
        "service:stackyard_requests_errors:ratio_rate1h",
        "node_load1",
        "redis_up",
    }


def test_substitute_variables_fills_builtins_and_defaults_to_all() -> None:
    expr = 'rate(x{service=~"$service",name=~"${task}"}[$__rate_interval])'
    assert (
        substitute_variables(expr, {"task": "send_mail"}, rate_interval="20s")
        == 'rate(x{service=~".*",name=~"send_mail"}[20s])'
    )
