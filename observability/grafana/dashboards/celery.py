"""Celery: queue depth, task throughput and latency, failures (celery-exporter metrics)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard

from observability.grafana.panels import RATE, Query, base, graph, single_stat, variable

UID = "stackyard-celery"
SEL = 'name=~"$task"'


def build() -> dashboard.Dashboard:
    return (
        base(UID, "Stackyard Celery", ["celery"], "Queues, workers and tasks.")
        .with_variable(variable("task", "Task", "label_values(celery_task_sent_total, name)"))
        .with_row(dashboard.Row("Now"))
        .with_panel(single_stat("Workers", Query("max(celery_active_worker_count)")))
        .with_panel(single_stat("Waiting tasks", Query("sum(celery_queue_length)")))
        .with_panel(
            single_stat(
                "Tasks/s",
                Query(f"sum(rate(celery_task_succeeded_total{{{SEL}}}[{RATE}]))"),
                unit="ops",
            )
        )
        .with_panel(
            single_stat(
                "Failed/s",
                Query(f"sum(rate(celery_task_failed_total{{{SEL}}}[{RATE}]))"),
                unit="ops",
            )
        )
        .with_row(dashboard.Row("Queues"))
        .with_panel(
            graph(
                "Queue depth",
                Query("sum by (queue_name) (celery_queue_length)", "{{queue_name}}"),
                description="Tasks waiting in the broker; a climbing line means workers lag.",
            )
        )
        .with_panel(
            graph(
                "Active tasks per worker",
                Query("sum by (hostname) (celery_worker_tasks_active)", "{{hostname}}"),
            )
        )
        .with_row(dashboard.Row("Tasks"))
        .with_panel(
            graph(
                "Tasks/s by task",
                Query(
                    f"sum by (name) (rate(celery_task_succeeded_total{{{SEL}}}[{RATE}]))",
                    "done {{name}}",
                ),
                Query(
                    f"sum by (name) (rate(celery_task_received_total{{{SEL}}}[{RATE}]))",
                    "received {{name}}",
                ),
                unit="ops",
            )
        )
        .with_panel(
            graph(
                "Task runtime p50 / p95",
                Query(
                    "histogram_quantile(0.5, sum by (name, le) "
                    f"(rate(celery_task_runtime_bucket{{{SEL}}}[{RATE}])))",
                    "p50 {{name}}",
                ),
                Query(
                    "histogram_quantile(0.95, sum by (name, le) "
                    f"(rate(celery_task_runtime_bucket{{{SEL}}}[{RATE}])))",
                    "p95 {{name}}",
                ),
                unit="s",
            )
        )
        .with_panel(
            graph(
                "Failures and retries by task",
                Query(
                    f"sum by (name) (rate(celery_task_failed_total{{{SEL}}}[{RATE}]))",
                    "failed {{name}}",
                ),
                Query(
                    f"sum by (name) (rate(celery_task_retried_total{{{SEL}}}[{RATE}]))",
                    "retried {{name}}",
                ),
                unit="ops",
            )
        )
        .with_panel(
            graph(
                "Failure ratio by task",
                Query(
                    f"sum by (name) (rate(celery_task_failed_total{{{SEL}}}[{RATE}])) / ("
                    f"sum by (name) (rate(celery_task_succeeded_total{{{SEL}}}[{RATE}])) + "
                    f"sum by (name) (rate(celery_task_failed_total{{{SEL}}}[{RATE}])))",
                    "{{name}}",
                ),
                unit="percentunit",
            )
        )
    )
